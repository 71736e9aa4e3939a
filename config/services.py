"""Writes for tenancy: merchants, memberships, encrypted provider credentials, heartbeats."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.auth.tokens import api_key_token_digest, api_key_token_new
from config.crypto import encrypt_json, encrypt_text
from config.exceptions import ApplicationError, CredentialError
from config.flags import flag_cache_clear
from config.models import (
    ApiKey,
    Flag,
    Membership,
    Merchant,
    MerchantSecret,
    ProviderCredential,
    ServiceHeartbeat,
)
from config.selectors import membership_cache_clear, user_is_platform_admin, user_may
from config.types import PROVIDER_REQUIRED_SECRETS, Action, Resource


def merchant_create(
    *, name: str, slug: str, time_zone: str = "UTC", is_active: bool = True
) -> Merchant:
    merchant = Merchant(name=name, slug=slug, time_zone=time_zone, is_active=is_active)
    merchant.full_clean()
    merchant.save()
    return merchant


def merchant_update(*, merchant: Merchant, **fields: Any) -> Merchant:
    allowed = {"name", "slug", "time_zone", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(f"cannot update {sorted(unknown)}", field=min(unknown))
    for name, value in fields.items():
        setattr(merchant, name, value)
    merchant.full_clean()
    merchant.save(update_fields=[*fields, "updated_at"])
    return merchant


def membership_create(
    *,
    user: User,
    role: str,
    merchant: Merchant | None = None,
    granted_by: User | None = None,
) -> Membership:
    """Give `user` a role; they become staff so they can use the admin.

    A platform admin also becomes a superuser, since Django's own admin pages (users,
    schedules) check Django permissions. When `granted_by` is given, it must itself be
    allowed to manage members of `merchant`, and only platform admins grant platform admin.
    """
    if granted_by is not None:
        _check_may_grant(granted_by=granted_by, role=role, merchant=merchant)
    membership = Membership(user=user, merchant=merchant, role=role)
    membership.full_clean()
    with transaction.atomic():
        membership.save()
        user.is_staff = True
        if role == Membership.Role.PLATFORM_ADMIN:
            user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    membership_cache_clear(user=user)
    return membership


def membership_update_role(
    *, membership: Membership, role: str, granted_by: User | None = None
) -> Membership:
    if granted_by is not None:
        _check_may_grant(granted_by=granted_by, role=role, merchant=membership.merchant)
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role", "updated_at"])
    membership_cache_clear(user=membership.user)
    return membership


def _check_may_grant(*, granted_by: User, role: str, merchant: Merchant | None) -> None:
    if role == Membership.Role.PLATFORM_ADMIN:
        if not user_is_platform_admin(user=granted_by):
            raise ApplicationError("only platform admins grant platform admin", field="role")
        return
    if merchant is None or not user_may(
        user=granted_by, resource=Resource.MEMBERSHIP, action=Action.ADD, merchant_id=merchant.pk
    ):
        raise ApplicationError("you cannot manage members of this merchant", field="merchant")


def provider_credential_clean_secrets(*, provider: str, secrets: Any) -> dict[str, str]:
    """Check a provider's secrets without storing them; raises CredentialError naming the gap."""
    if not isinstance(secrets, dict):
        raise CredentialError("secrets must be a JSON object", field="secrets")
    missing = [key for key in PROVIDER_REQUIRED_SECRETS[provider] if not secrets.get(key)]
    if missing:
        raise CredentialError(f"{provider} credentials need {', '.join(missing)}", field="secrets")
    bad = [key for key, value in secrets.items() if not isinstance(value, str)]
    if bad:
        raise CredentialError(f"secret values must be strings: {', '.join(bad)}", field="secrets")
    return {key: str(value) for key, value in secrets.items()}


def provider_credential_create(
    *,
    merchant: Merchant,
    provider: str,
    secrets: dict[str, Any],
    label: str = "default",
    is_active: bool = True,
) -> ProviderCredential:
    if provider not in PROVIDER_REQUIRED_SECRETS:
        raise CredentialError(f"unknown provider {provider!r}", field="provider")
    clean = provider_credential_clean_secrets(provider=provider, secrets=secrets)
    credential = ProviderCredential(
        merchant=merchant,
        provider=provider,
        label=label,
        secrets_ciphertext=encrypt_json(clean),
        secret_names=sorted(clean),
        is_active=is_active,
    )
    credential.full_clean()
    credential.save()
    return credential


def provider_credential_update(
    *,
    credential: ProviderCredential,
    secrets: dict[str, Any] | None = None,
    label: str | None = None,
    is_active: bool | None = None,
) -> ProviderCredential:
    """Change a credential; `secrets=None` keeps the stored secrets (they are never shown)."""
    if secrets is not None:
        clean = provider_credential_clean_secrets(provider=credential.provider, secrets=secrets)
        credential.secrets_ciphertext = encrypt_json(clean)
        credential.secret_names = sorted(clean)
    if label is not None:
        credential.label = label
    if is_active is not None:
        credential.is_active = is_active
    credential.full_clean()
    credential.save()
    return credential


def service_heartbeat_record(*, name: str, detail: dict[str, Any] | None = None) -> None:
    ServiceHeartbeat.objects.update_or_create(
        name=name, defaults={"last_seen_at": timezone.now(), "detail": detail or {}}
    )


def user_ensure(
    *, username: str, password: str, email: str = "", is_superuser: bool = False
) -> User:
    """Create a login if missing, else reset its password; used by `make run`'s demo setup."""
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.is_active = True
    user.is_staff = True
    user.is_superuser = is_superuser or user.is_superuser
    user.save()
    return user


def merchant_secret_set(*, merchant: Merchant, name: str, value: str) -> MerchantSecret:
    """Create or replace a merchant's named secret."""
    if not value:
        raise ApplicationError("a secret needs a value", field="value")
    secret = MerchantSecret.objects.filter(merchant=merchant, name=name).first() or MerchantSecret(
        merchant=merchant, name=name
    )
    secret.value_ciphertext = encrypt_text(value)
    secret.full_clean()
    secret.save()
    return secret


def flag_set(
    *,
    key: str,
    value: Any,
    merchant: Merchant | None = None,
    is_active: bool = True,
    description: str = "",
) -> Flag:
    """Create or change a flag; calls that start after the commit see it."""
    flag = Flag.objects.filter(key=key, merchant=merchant).first() or Flag(
        key=key, merchant=merchant
    )
    flag.value = value
    flag.is_active = is_active
    flag.description = description
    flag.full_clean()
    with transaction.atomic():
        flag.save()
        transaction.on_commit(flag_cache_clear)
    return flag


def flag_delete(*, flag: Flag) -> None:
    with transaction.atomic():
        flag.delete()
        transaction.on_commit(flag_cache_clear)


# Recording every request's use would turn each authenticated read into a write.
API_KEY_USE_RECORD_INTERVAL = timedelta(minutes=1)


def api_key_clean_expiry(*, expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError("the expiry must be in the future", field="expires_at")


def api_key_create(
    *,
    merchant: Merchant,
    role: str,
    name: str,
    created_by: User | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key; returns it with its plaintext token, which is not stored and not shown again.

    Callers check that the actor may manage the merchant's API keys.
    """
    api_key_clean_expiry(expires_at=expires_at)
    for _ in range(3):
        prefix, token = api_key_token_new()
        api_key = ApiKey(
            merchant=merchant,
            role=role,
            name=name,
            prefix=prefix,
            secret_hash=api_key_token_digest(token),
            created_by=created_by,
            expires_at=expires_at,
        )
        api_key.full_clean(exclude=["prefix"])
        try:
            with transaction.atomic():
                api_key.save()
        except IntegrityError:
            continue  # another key drew the same random prefix; draw again
        return api_key, token
    raise ApplicationError("could not draw a free key prefix, try again")


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key for good; revoking it again keeps the first revocation time."""
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=now, updated_at=now
    )
    api_key.refresh_from_db(fields=["revoked_at", "updated_at"])
    return api_key


def api_key_record_use(*, api_key: ApiKey, now: datetime) -> None:
    """Note that the key was used, at most once a minute per key, without a race."""
    stale_before = now - API_KEY_USE_RECORD_INTERVAL
    if api_key.last_used_at is not None and api_key.last_used_at > stale_before:
        return
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before), pk=api_key.pk
    ).update(last_used_at=now)
    api_key.last_used_at = now
