from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from config.admin_scoping import MerchantScopedAdmin, adopt_saved
from config.forms import (
    ApiKeyForm,
    FlagForm,
    MembershipForm,
    MerchantSecretForm,
    ProviderCredentialForm,
)
from config.models import (
    ApiKey,
    Flag,
    Membership,
    Merchant,
    MerchantSecret,
    ProviderCredential,
    ServiceHeartbeat,
)
from config.selectors import merchant_ids_allowing, user_is_platform_admin, user_may
from config.services import (
    api_key_create,
    api_key_revoke,
    flag_delete,
    flag_set,
    membership_create,
    membership_update_role,
    merchant_create,
    merchant_secret_set,
    merchant_update,
    provider_credential_create,
    provider_credential_update,
)
from config.types import Action, Resource

admin.site.site_header = "Breeze"
admin.site.site_title = "Breeze admin"
admin.site.index_title = "Operations"


@admin.register(Merchant)
class MerchantAdmin(MerchantScopedAdmin[Merchant]):
    resource = Resource.MERCHANT
    merchant_field = "pk"
    list_display = ["name", "slug", "time_zone", "is_active", "created_at"]
    list_filter = ["is_active", "time_zone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]

    def save_model(
        self, request: HttpRequest, obj: Merchant, form: ModelForm[Merchant], change: bool
    ) -> None:
        if change:
            merchant_update(
                merchant=obj, **{name: form.cleaned_data[name] for name in form.changed_data}
            )
        else:
            saved = merchant_create(
                name=obj.name, slug=obj.slug, time_zone=obj.time_zone, is_active=obj.is_active
            )
            adopt_saved(obj, saved)


@admin.register(Membership)
class MembershipAdmin(MerchantScopedAdmin[Membership]):
    resource = Resource.MEMBERSHIP
    form = MembershipForm
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = [("merchant", admin.RelatedOnlyFieldListFilter), "role"]
    search_fields = ["user__username", "user__email", "merchant__name"]
    autocomplete_fields = ["merchant"]
    list_select_related = ["user", "merchant"]

    def get_form(
        self,
        request: HttpRequest,
        obj: Membership | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[ModelForm[Membership]]:
        form_class = super().get_form(request, obj, change, **kwargs)
        if user_is_platform_admin(user=request.user):
            return form_class
        merchant_ids = (
            merchant_ids_allowing(user=request.user, resource=self.resource, action=Action.ADD)
            or set()
        )

        class MerchantAdminMembershipForm(form_class):  # type: ignore[valid-type, misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                if "user" in self.fields:
                    self.limit_for_merchant_admin(merchant_ids)

        return MerchantAdminMembershipForm

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> list[str]:
        # Moving a membership between users or merchants is a delete and an add.
        return ["user", "merchant"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: Membership, form: ModelForm[Membership], change: bool
    ) -> None:
        actor = request.user
        assert isinstance(actor, User)  # the admin only serves signed-in staff
        if change:
            membership_update_role(membership=obj, role=obj.role, granted_by=actor)
        else:
            saved = membership_create(
                user=obj.user, merchant=obj.merchant, role=obj.role, granted_by=actor
            )
            adopt_saved(obj, saved)


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(MerchantScopedAdmin[ProviderCredential]):
    resource = Resource.CREDENTIAL
    form = ProviderCredentialForm
    list_display = [
        "merchant",
        "provider",
        "label",
        "stored_secret_names",
        "is_active",
        "updated_at",
    ]
    list_filter = [("merchant", admin.RelatedOnlyFieldListFilter), "provider", "is_active"]
    search_fields = ["merchant__name", "label"]
    autocomplete_fields = ["merchant"]
    list_select_related = ["merchant"]
    readonly_fields = ["stored_secret_names", "created_at", "updated_at"]

    @admin.display(description="stored secrets")
    def stored_secret_names(self, obj: ProviderCredential) -> str:
        return ", ".join(obj.secret_names)

    def get_readonly_fields(
        self, request: HttpRequest, obj: ProviderCredential | None = None
    ) -> list[str]:
        fixed = ["merchant", "provider"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def save_model(
        self,
        request: HttpRequest,
        obj: ProviderCredential,
        form: ModelForm[ProviderCredential],
        change: bool,
    ) -> None:
        secrets = form.cleaned_data.get("secrets")
        if change:
            provider_credential_update(
                credential=obj, secrets=secrets, label=obj.label, is_active=obj.is_active
            )
            return
        saved = provider_credential_create(
            merchant=obj.merchant,
            provider=obj.provider,
            label=obj.label,
            secrets=secrets or {},
            is_active=obj.is_active,
        )
        adopt_saved(obj, saved)


@admin.register(ServiceHeartbeat)
class ServiceHeartbeatAdmin(admin.ModelAdmin[ServiceHeartbeat]):
    list_display = ["name", "last_seen_at", "detail"]
    readonly_fields = ["name", "last_seen_at", "detail"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_may(user=request.user, resource=Resource.PLATFORM, action=Action.VIEW)

    def has_view_permission(
        self, request: HttpRequest, obj: ServiceHeartbeat | None = None
    ) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ServiceHeartbeat | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ServiceHeartbeat | None = None
    ) -> bool:
        return self.has_module_permission(request)


@admin.register(MerchantSecret)
class MerchantSecretAdmin(MerchantScopedAdmin[MerchantSecret]):
    resource = Resource.CREDENTIAL
    form = MerchantSecretForm
    list_display = ["name", "merchant", "updated_at"]
    list_filter = [("merchant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "merchant__name"]
    autocomplete_fields = ["merchant"]
    list_select_related = ["merchant"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: MerchantSecret | None = None
    ) -> list[str]:
        return ["merchant", "name"] if obj is not None else []

    def save_model(
        self,
        request: HttpRequest,
        obj: MerchantSecret,
        form: ModelForm[MerchantSecret],
        change: bool,
    ) -> None:
        value = form.cleaned_data.get("value")
        if value is None:
            return  # blank on change keeps the stored value
        adopt_saved(obj, merchant_secret_set(merchant=obj.merchant, name=obj.name, value=value))


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin[Flag]):
    """Platform admins only: flags change how every call of a merchant, or of all, behaves."""

    form = FlagForm
    list_display = ["key", "merchant", "value", "is_active", "updated_at"]
    list_filter = ["is_active", ("merchant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["key", "description"]
    list_select_related = ["merchant"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_may(user=request.user, resource=Resource.PLATFORM, action=Action.VIEW)

    def has_view_permission(self, request: HttpRequest, obj: Flag | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Flag | None = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Flag | None = None) -> bool:
        return self.has_module_permission(request)

    def save_model(
        self, request: HttpRequest, obj: Flag, form: ModelForm[Flag], change: bool
    ) -> None:
        saved = flag_set(
            key=obj.key,
            value=obj.value,
            merchant=obj.merchant,
            is_active=obj.is_active,
            description=obj.description,
        )
        adopt_saved(obj, saved)

    def get_readonly_fields(self, request: HttpRequest, obj: Flag | None = None) -> list[str]:
        # A flag is identified by its key and scope; another key is another flag.
        return ["key", "merchant"] if obj is not None else []

    def delete_model(self, request: HttpRequest, obj: Flag) -> None:
        flag_delete(flag=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        for flag in queryset:
            flag_delete(flag=flag)


@admin.register(ApiKey)
class ApiKeyAdmin(MerchantScopedAdmin[ApiKey]):
    """Keys are issued here or by the API, shown once, then only revoked: never edited or deleted."""

    resource = Resource.API_KEY
    form = ApiKeyForm
    list_display = [
        "name",
        "prefix",
        "merchant",
        "role",
        "created_by",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = [("merchant", admin.RelatedOnlyFieldListFilter), "role"]
    search_fields = ["name", "prefix", "merchant__name"]
    list_select_related = ["merchant", "created_by"]
    readonly_fields = ["prefix", "created_by", "created_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ApiKey, form: ModelForm[ApiKey], change: bool
    ) -> None:
        actor = request.user
        assert isinstance(actor, User)  # the admin only serves signed-in staff
        saved, token = api_key_create(
            merchant=obj.merchant,
            role=obj.role,
            name=obj.name,
            expires_at=obj.expires_at,
            created_by=actor,
        )
        adopt_saved(obj, saved)
        messages.warning(request, f"Copy the key now, it is not shown again: {token}")

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        messages.success(request, f"Revoked {len(queryset)} API key(s).")
