from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from config.exceptions import ApplicationError
from config.models import ApiKey, Flag, Membership, MerchantSecret, ProviderCredential
from config.services import api_key_clean_expiry, provider_credential_clean_secrets
from config.types import PROVIDER_REQUIRED_SECRETS


class MembershipForm(forms.ModelForm[Membership]):
    class Meta:
        model = Membership
        fields = ["user", "merchant", "role"]

    def limit_for_merchant_admin(self, merchant_ids: set[int]) -> None:
        """Merchant admins pick among their own merchants' people and merchant roles only."""
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = (
            get_user_model()
            .objects.filter(memberships__merchant_id__in=merchant_ids)
            .distinct()
            .order_by("username")
        )
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [
            choice
            for choice in Membership.Role.choices
            if choice[0] != Membership.Role.PLATFORM_ADMIN
        ]
        self.fields["merchant"].required = True


_SECRETS_HELP = "A JSON object of the vendor's secrets. Required keys: " + "; ".join(
    f"{provider}: {', '.join(keys)}" for provider, keys in PROVIDER_REQUIRED_SECRETS.items()
)


class ProviderCredentialForm(forms.ModelForm[ProviderCredential]):
    """Secrets are write-only: the field is always rendered empty, blank keeps what is stored."""

    secrets = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        required=False,
        help_text=_SECRETS_HELP,
    )

    class Meta:
        model = ProviderCredential
        fields = ["merchant", "provider", "label", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["secrets"].initial = ""
        if self.instance.pk:
            self.fields["secrets"].help_text = (
                f"Stored: {', '.join(self.instance.secret_names)}. Leave blank to keep them; "
                "enter a new JSON object to replace them. " + _SECRETS_HELP
            )

    def clean_secrets(self) -> dict[str, Any] | None:
        raw = self.cleaned_data["secrets"].strip()
        if not raw:
            if not self.instance.pk:
                raise forms.ValidationError("Enter the credential's secrets.")
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"Not valid JSON: {error.msg} (line {error.lineno})."
            ) from error
        if not isinstance(value, dict):
            raise forms.ValidationError('Enter a JSON object, like {"api_key": "…"}.')
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        secrets = cleaned.get("secrets")
        provider = cleaned.get("provider") or self.instance.provider
        if secrets is not None and provider:
            try:
                provider_credential_clean_secrets(provider=provider, secrets=secrets)
            except ApplicationError as error:
                self.add_error("secrets", error.message)
        return cleaned


class MerchantSecretForm(forms.ModelForm[MerchantSecret]):
    """The value is write-only: always rendered empty; blank keeps the stored value."""

    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
    )

    class Meta:
        model = MerchantSecret
        fields = ["merchant", "name"]

    def clean_value(self) -> str | None:
        value: str = self.cleaned_data["value"]
        if not value and not self.instance.pk:
            raise forms.ValidationError("Enter the secret's value.")
        return value or None


class FlagForm(forms.ModelForm[Flag]):
    value = forms.JSONField(help_text='Any JSON value: "rules", 0.8, true, {"stop_secs": 1.0}.')

    class Meta:
        model = Flag
        fields = ["key", "merchant", "value", "is_active", "description"]


class ApiKeyForm(forms.ModelForm[ApiKey]):
    class Meta:
        model = ApiKey
        fields = ["merchant", "role", "name", "expires_at"]

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data["expires_at"]
        try:
            api_key_clean_expiry(expires_at=expires_at)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error
        return expires_at
