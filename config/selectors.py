"""Reads for tenancy, including the one scoping helper every merchant-owned queryset uses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models

from config.auth.tokens import api_key_token_matches, api_key_token_prefix
from config.crypto import decrypt_json, decrypt_text
from config.models import ApiKey, Membership, Merchant, MerchantSecret, ProviderCredential
from config.permissions import role_allows
from config.types import MEMBERSHIP_CACHE_ATTR, Action, Resource

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    from config.auth.principal import ApiKeyPrincipal

    AnyUser = AbstractBaseUser | AnonymousUser | ApiKeyPrincipal

_M = TypeVar("_M", bound=models.Model)


def _memberships(user: AnyUser) -> list[tuple[int | None, str]]:
    """The user's (merchant id, role) rows, read once per user object.

    An admin page asks for permissions many times per request; like Django's own permission
    cache, the answer is kept on the user instance, which lives for one request.
    """
    cached: list[tuple[int | None, str]] | None = getattr(user, MEMBERSHIP_CACHE_ATTR, None)
    if cached is None:
        if user.pk is None:
            return []
        cached = list(Membership.objects.filter(user_id=user.pk).values_list("merchant_id", "role"))
        setattr(user, MEMBERSHIP_CACHE_ATTR, cached)
    return cached


def membership_cache_clear(*, user: AnyUser) -> None:
    user.__dict__.pop(MEMBERSHIP_CACHE_ATTR, None)


def user_is_platform_admin(*, user: AnyUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return any(role == Membership.Role.PLATFORM_ADMIN for _, role in _memberships(user))


def merchant_roles_for_user(*, user: AnyUser) -> dict[int, str]:
    """Map merchant id → the user's role there (platform admins are handled separately)."""
    if not user.is_authenticated or not user.is_active:
        return {}
    return {
        merchant_id: role for merchant_id, role in _memberships(user) if merchant_id is not None
    }


def merchant_ids_allowing(
    *, user: AnyUser, resource: Resource, action: Action = Action.VIEW
) -> set[int] | None:
    """The merchants where `user` may do `action` on `resource`; None means every merchant."""
    if user_is_platform_admin(user=user):
        return None
    return {
        merchant_id
        for merchant_id, role in merchant_roles_for_user(user=user).items()
        if role_allows(role, resource, action)
    }


def scope_queryset(
    queryset: models.QuerySet[_M],
    *,
    user: AnyUser,
    resource: Resource,
    merchant_field: str = "merchant",
    action: Action = Action.VIEW,
) -> models.QuerySet[_M]:
    """Restrict `queryset` to rows of merchants where `user` may `action` on `resource`.

    Every queryset that reaches merchant-owned rows goes through here, in the admin and the
    API alike, so a row outside the caller's merchants is simply not found.
    `merchant_field` is the lookup path to the merchant's id (`"pk"` for Merchant itself).
    """
    merchant_ids = merchant_ids_allowing(user=user, resource=resource, action=action)
    if merchant_ids is None:
        return queryset
    lookup: dict[str, Any] = {f"{merchant_field}__in": merchant_ids}
    return queryset.filter(**lookup)


def user_may(
    *, user: AnyUser, resource: Resource, action: Action, merchant_id: int | None = None
) -> bool:
    """Whether `user` may `action` on `resource`, in one merchant or in any of theirs."""
    merchant_ids = merchant_ids_allowing(user=user, resource=resource, action=action)
    if merchant_ids is None:
        return True
    if merchant_id is None:
        return bool(merchant_ids)
    return merchant_id in merchant_ids


def merchant_list(*, user: AnyUser, action: Action = Action.VIEW) -> models.QuerySet[Merchant]:
    return scope_queryset(
        Merchant.objects.all(),
        user=user,
        resource=Resource.MERCHANT,
        merchant_field="pk",
        action=action,
    )


def api_key_list(*, user: AnyUser) -> models.QuerySet[ApiKey]:
    return scope_queryset(
        ApiKey.objects.select_related("merchant", "created_by"),
        user=user,
        resource=Resource.API_KEY,
    )


def api_key_get_by_token(*, token: str) -> ApiKey | None:
    """The key a presented token belongs to, its secret checked in constant time."""
    prefix = api_key_token_prefix(token)
    if prefix is None:
        return None
    api_key = ApiKey.objects.select_related("merchant").filter(prefix=prefix).first()
    if api_key is None or not api_key_token_matches(token, api_key.secret_hash):
        return None
    return api_key


def api_key_refusal(*, api_key: ApiKey, now: datetime) -> str | None:
    """Why a genuine key may not be used right now, or None when it may."""
    if api_key.revoked_at is not None:
        return "This API key has been revoked."
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return "This API key has expired."
    if not api_key.merchant.is_active:
        return "This API key's merchant is inactive."
    return None


def provider_credential_secrets(*, credential: ProviderCredential) -> dict[str, str]:
    """Decrypted secrets, for the code that talks to the vendor; never for display."""
    return decrypt_json(credential.secrets_ciphertext)


def provider_credential_get_active(
    *, merchant_id: int, provider: str, label: str = "default"
) -> ProviderCredential | None:
    return ProviderCredential.objects.filter(
        merchant_id=merchant_id, provider=provider, label=label, is_active=True
    ).first()


def merchant_secret_names(*, merchant_id: int) -> set[str]:
    return set(
        MerchantSecret.objects.filter(merchant_id=merchant_id).values_list("name", flat=True)
    )


def merchant_secret_values(*, merchant_id: int) -> dict[str, str]:
    """Decrypted merchant secrets, for resolving `{variables}` at call time; never for display."""
    return {
        name: decrypt_text(ciphertext)
        for name, ciphertext in MerchantSecret.objects.filter(merchant_id=merchant_id).values_list(
            "name", "value_ciphertext"
        )
    }


def provider_credentials_for_merchant(*, merchant_id: int) -> dict[str, dict[str, str]]:
    """Every active default-label credential of a merchant, decrypted, by provider name."""
    return {
        credential.provider: decrypt_json(credential.secrets_ciphertext)
        for credential in ProviderCredential.objects.filter(
            merchant_id=merchant_id, label="default", is_active=True
        )
    }
