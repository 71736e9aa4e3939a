from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (for example Asia/Kolkata).")


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Merchant(TimeStampedModel):
    """A tenant: every row a merchant owns is reached only through its scope."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    """A user's role in one merchant, or platform-wide when the role is platform admin."""

    class Role(models.TextChoices):
        PLATFORM_ADMIN = "platform_admin", "Platform admin"
        MERCHANT_ADMIN = "merchant_admin", "Merchant admin"
        OPERATOR = "operator", "Operator"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="memberships", null=True, blank=True
    )
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        ordering = ["merchant__name", "user__username"]
        constraints = [
            # A platform admin spans all merchants; every other role belongs to exactly one.
            models.CheckConstraint(
                name="membership_platform_admin_has_no_merchant",
                condition=(Q(role="platform_admin") & Q(merchant__isnull=True))
                | (~Q(role="platform_admin") & Q(merchant__isnull=False)),
            ),
            # One role per user per merchant; the role is changed, not stacked.
            models.UniqueConstraint(
                fields=["user", "merchant"],
                condition=Q(merchant__isnull=False),
                name="membership_unique_user_merchant",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(merchant__isnull=True),
                name="membership_unique_platform_admin",
            ),
        ]

    def __str__(self) -> str:
        where = self.merchant.name if self.merchant else "all merchants"
        return f"{self.user} · {self.get_role_display()} · {where}"


class ProviderCredential(TimeStampedModel):
    """A merchant's secrets for one vendor, encrypted at rest; never rendered back."""

    class Provider(models.TextChoices):
        TWILIO = "twilio", "Twilio"
        PLIVO = "plivo", "Plivo"
        EXOTEL = "exotel", "Exotel"
        DAILY = "daily", "Daily"
        DEEPGRAM = "deepgram", "Deepgram"
        SONIOX = "soniox", "Soniox"
        SARVAM = "sarvam", "Sarvam"
        GOOGLE = "google", "Google"
        OPENAI = "openai", "OpenAI"
        AZURE_OPENAI = "azure_openai", "Azure OpenAI"
        ELEVENLABS = "elevenlabs", "ElevenLabs"
        CARTESIA = "cartesia", "Cartesia"
        LANGFUSE = "langfuse", "Langfuse"

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="credentials")
    provider = models.CharField(max_length=32, choices=Provider.choices)
    label = models.SlugField(max_length=64, default="default")
    # Fernet token of the JSON secrets; only config.crypto reads it.
    secrets_ciphertext = models.TextField(editable=False)
    # The names (not values) of the stored secrets, so operators can see what is set.
    secret_names = models.JSONField(default=list, editable=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["merchant__name", "provider", "label"]
        constraints = [
            # Lookups resolve a merchant's credential by (provider, label).
            models.UniqueConstraint(
                fields=["merchant", "provider", "label"], name="credential_unique_label"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} · {self.get_provider_display()} · {self.label}"


class ServiceHeartbeat(models.Model):
    """When each background process last proved it was alive, for operators and readiness."""

    name = models.CharField(max_length=100, unique=True)
    last_seen_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MerchantSecret(TimeStampedModel):
    """A named value templates may use as `{name}` (API tokens for hooks…), encrypted at rest."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(
        max_length=64,
        validators=[
            RegexValidator(
                r"^[A-Za-z_][A-Za-z0-9_]*$",
                "Use letters, digits and underscores, not starting with a digit.",
            )
        ],
    )
    value_ciphertext = models.TextField(editable=False)

    class Meta:
        ordering = ["merchant__name", "name"]
        constraints = [
            # Variable resolution looks a merchant's secret up by name.
            models.UniqueConstraint(
                fields=["merchant", "name"], name="merchant_secret_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} · {self.name}"


class Flag(TimeStampedModel):
    """A dynamic override of one call setting (dotted key), platform-wide or for one merchant.

    Flags sit between the environment's defaults and the template in the configuration
    hierarchy; they are cached in Redis and read at the start of every call.
    """

    key = models.CharField(
        max_length=128,
        validators=[
            RegexValidator(r"^[a-z_]+(\.[a-z_]+)*$", "A dotted settings path such as llm.provider.")
        ],
    )
    value = models.JSONField()
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="flags", null=True, blank=True
    )
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            # One value per key platform-wide, and one per key per merchant.
            models.UniqueConstraint(
                fields=["key"], condition=Q(merchant__isnull=True), name="flag_unique_global_key"
            ),
            models.UniqueConstraint(
                fields=["key", "merchant"],
                condition=Q(merchant__isnull=False),
                name="flag_unique_merchant_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.merchant or 'platform'})"


# API keys act for a merchant; the platform-wide role belongs to people only.
API_KEY_ROLES = [
    (role.value, role.label) for role in Membership.Role if role != Membership.Role.PLATFORM_ADMIN
]


class ApiKey(TimeStampedModel):
    """A merchant back-end's server-to-server credential, shown once and stored as a digest.

    The token reads `brz_` + 8 characters (the visible `prefix`, which finds the row) +
    a secret; only the SHA-256 of the whole token is kept.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    role = models.CharField(max_length=32, choices=API_KEY_ROLES)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                name="api_key_merchant_role",
                condition=Q(role__in=[value for value, _ in API_KEY_ROLES]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
