"""Do-not-call lists and dispatch limits in the admin.

Merchants manage their own do-not-call list; the platform-wide list (no merchant) and the
platform's default limits are for platform admins only. Numbers are added by pasting lines
or CSV (`dnc_add`), and removed with the list's delete action.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest

from config.admin_scoping import MerchantScopedAdmin, adopt_saved
from config.models import Merchant
from config.selectors import user_may
from config.types import Action, Resource
from leads.dispatch.dnc import dnc_add, dnc_numbers_parse
from leads.models import DispatchLimits, DoNotCall
from leads.phones import region_for_time_zone

PLATFORM_WIDE = "Platform-wide (every merchant)"
_M = TypeVar("_M", bound=models.Model)


class _PlatformRowsAdmin(MerchantScopedAdmin[_M]):
    """Rows of one merchant, or the platform's row when the merchant is empty.

    Only platform admins may pick "no merchant"; everyone else must choose one of theirs.
    """

    platform_label: ClassVar[str]

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "merchant" and field is not None:
            if user_may(user=request.user, resource=Resource.PLATFORM, action=Action.CHANGE):
                field.empty_label = self.platform_label
            else:
                field.required = True
        return field


class DoNotCallAddForm(forms.ModelForm[DoNotCall]):
    numbers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "cols": 40}),
        help_text="One number per line, or paste CSV (the first column is read; a header row "
        "is skipped). National numbers are read in the merchant's country.",
    )

    class Meta:
        model = DoNotCall
        fields = ["merchant", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "numbers" not in data or "merchant" not in data:
            return data
        merchant: Merchant | None = data["merchant"]
        region = region_for_time_zone(merchant.time_zone) if merchant else None
        pasted = dnc_numbers_parse(text=data["numbers"], region=region)
        if pasted.problems:
            self.add_error("numbers", pasted.problems)
        elif not pasted.phones:
            self.add_error("numbers", "No phone numbers found.")
        data["phones"] = pasted.phones
        return data


@admin.register(DoNotCall)
class DoNotCallAdmin(_PlatformRowsAdmin[DoNotCall]):
    resource = Resource.LEAD
    platform_label = PLATFORM_WIDE
    list_display = ["phone", "scope", "reason", "created_at"]
    list_filter = [("merchant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=phone", "^phone", "reason"]
    search_help_text = "Phone (E.164, e.g. +9198…) or reason."
    list_select_related = ["merchant"]
    ordering = ["phone"]

    @admin.display(description="List", ordering="merchant__name")
    def scope(self, entry: DoNotCall) -> str:
        return PLATFORM_WIDE if entry.merchant is None else str(entry.merchant)

    def get_form(
        self,
        request: HttpRequest,
        obj: DoNotCall | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        if obj is None:
            kwargs["form"] = DoNotCallAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: DoNotCall | None = None) -> Any:
        return ["merchant", "numbers", "reason"] if obj is None else ["merchant", "phone", "reason"]

    def get_readonly_fields(self, request: HttpRequest, obj: DoNotCall | None = None) -> Any:
        # A listed number is removed and listed again, never edited into another number.
        return [] if obj is None else ["merchant", "phone"]

    def save_model(
        self, request: HttpRequest, obj: DoNotCall, form: forms.ModelForm[Any], change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        merchant: Merchant | None = data["merchant"]
        phones: list[str] = data["phones"]
        added = dnc_add(
            merchant_id=None if merchant is None else merchant.pk,
            phones=phones,
            reason=data.get("reason", ""),
        )
        self.message_user(
            request,
            f"{len(added)} number(s) listed; {len(phones) - len(added)} already on the list.",
            messages.SUCCESS,
        )
        saved = DoNotCall.objects.get(merchant=merchant, phone=phones[0])
        adopt_saved(obj, saved)


@admin.register(DispatchLimits)
class DispatchLimitsAdmin(_PlatformRowsAdmin[DispatchLimits]):
    """Concurrency and rate caps the dispatcher holds each merchant's calls to.

    Changing them is a merchant admin's or a platform admin's work (the MERCHANT resource:
    operators and viewers may look).
    """

    resource = Resource.MERCHANT
    writable_action = Action.CHANGE
    platform_label = "Platform defaults"
    fields = [
        "merchant",
        "concurrent_calls",
        "concurrent_calls_per_caller_number",
        "calls_per_number_per_hour",
    ]
    list_display = [
        "scope",
        "concurrent_calls",
        "concurrent_calls_per_caller_number",
        "calls_per_number_per_hour",
        "updated_at",
    ]
    list_select_related = ["merchant"]

    @admin.display(description="For", ordering="merchant__name")
    def scope(self, limits: DispatchLimits) -> str:
        return "Platform defaults" if limits.merchant is None else str(limits.merchant)

    def get_readonly_fields(self, request: HttpRequest, obj: DispatchLimits | None = None) -> Any:
        return [] if obj is None else ["merchant"]

    def _may(self, request: HttpRequest, action: Action, obj: DispatchLimits | None) -> bool:
        # A merchant's limits are part of its settings: adding or removing its row is changing
        # the merchant, which merchant admins may do and operators may not.
        return super()._may(request, Action.VIEW if action is Action.VIEW else Action.CHANGE, obj)
