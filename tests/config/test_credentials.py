"""Provider credentials are encrypted at rest and never shown back."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from config.crypto import decrypt_json, encrypt_json, reencrypt
from config.exceptions import CredentialError, DecryptionError
from config.models import Membership, ProviderCredential
from config.selectors import provider_credential_secrets
from config.services import provider_credential_create, provider_credential_update
from tests.conftest import Tenants

Role = Membership.Role
TWILIO_SECRETS = {"account_sid": "AC-plain-sid-7e1f", "auth_token": "tok-plain-secret-93ab"}


def _pg_dump_text() -> str:
    params = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": params["PASSWORD"] or ""}
    result = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "--table=config_providercredential",
            "-h",
            params["HOST"] or "127.0.0.1",
            "-p",
            str(params["PORT"] or 5432),
            "-U",
            params["USER"],
            params["NAME"],
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_secrets_are_unreadable_in_a_database_dump(tenants: Tenants) -> None:
    credential = provider_credential_create(
        merchant=tenants.acme, provider="twilio", secrets=TWILIO_SECRETS
    )

    dump = _pg_dump_text()

    assert credential.secrets_ciphertext in dump
    assert "AC-plain-sid-7e1f" not in dump
    assert "tok-plain-secret-93ab" not in dump
    assert (
        provider_credential_secrets(credential=ProviderCredential.objects.get()) == TWILIO_SECRETS
    )


def test_admin_change_page_never_renders_a_stored_secret(
    tenants: Tenants, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    credential = provider_credential_create(
        merchant=tenants.acme, provider="twilio", secrets=TWILIO_SECRETS
    )
    client = login(member_of_acme(Role.PLATFORM_ADMIN))

    change = client.get(reverse("admin:config_providercredential_change", args=[credential.pk]))
    listing = client.get(reverse("admin:config_providercredential_changelist"))

    for page in (change.content.decode(), listing.content.decode()):
        assert "AC-plain-sid-7e1f" not in page
        assert "tok-plain-secret-93ab" not in page
        assert credential.secrets_ciphertext not in page
        assert "account_sid, auth_token" in page


def test_admin_blank_secrets_keep_the_stored_ones(
    tenants: Tenants, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    credential = provider_credential_create(
        merchant=tenants.acme, provider="twilio", secrets=TWILIO_SECRETS
    )
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    response = client.post(
        reverse("admin:config_providercredential_change", args=[credential.pk]),
        {"label": "primary", "is_active": "on", "secrets": ""},
    )

    assert response.status_code == 302
    stored = ProviderCredential.objects.get(pk=credential.pk)
    assert stored.label == "primary"
    assert provider_credential_secrets(credential=stored) == TWILIO_SECRETS


def test_admin_adds_and_replaces_secrets(
    tenants: Tenants, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    added = client.post(
        reverse("admin:config_providercredential_add"),
        {
            "merchant": tenants.acme.pk,
            "provider": "daily",
            "label": "default",
            "is_active": "on",
            "secrets": '{"api_key": "daily-key-1"}',
        },
    )
    credential = ProviderCredential.objects.get(merchant=tenants.acme, provider="daily")
    replaced = client.post(
        reverse("admin:config_providercredential_change", args=[credential.pk]),
        {"label": "default", "is_active": "on", "secrets": '{"api_key": "daily-key-2"}'},
    )

    assert (added.status_code, replaced.status_code) == (302, 302)
    credential.refresh_from_db()
    assert provider_credential_secrets(credential=credential) == {"api_key": "daily-key-2"}
    assert credential.secret_names == ["api_key"]


@pytest.mark.parametrize(
    ("_case", "secrets", "error"),
    [
        (
            "not json",
            "{api_key:",
            "Not valid JSON: Expecting property name enclosed in double quotes (line 1).",
        ),
        ("not an object", '["daily-key"]', 'Enter a JSON object, like {"api_key": "…"}.'),
        ("missing key", '{"token": "x"}', "daily credentials need api_key"),
        ("non-string value", '{"api_key": 5}', "secret values must be strings: api_key"),
        ("empty on add", "", "Enter the credential's secrets."),
    ],
)
def test_admin_rejects_bad_secrets_naming_the_field(
    _case: str,
    secrets: str,
    error: str,
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    response = client.post(
        reverse("admin:config_providercredential_add"),
        {"merchant": tenants.acme.pk, "provider": "daily", "label": "default", "secrets": secrets},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"secrets": [error]}
    assert not ProviderCredential.objects.exists()


def test_service_names_missing_secret_keys(tenants: Tenants) -> None:
    with pytest.raises(CredentialError) as raised:
        provider_credential_create(
            merchant=tenants.acme, provider="twilio", secrets={"account_sid": "AC1"}
        )

    assert (raised.value.field, raised.value.message) == (
        "secrets",
        "twilio credentials need auth_token",
    )
    assert not ProviderCredential.objects.exists()


def test_service_rejects_unknown_provider(tenants: Tenants) -> None:
    with pytest.raises(CredentialError) as raised:
        provider_credential_create(merchant=tenants.acme, provider="skype", secrets={"a": "b"})

    assert raised.value.field == "provider"


def test_update_without_secrets_keeps_them(tenants: Tenants) -> None:
    credential = provider_credential_create(
        merchant=tenants.acme, provider="twilio", secrets=TWILIO_SECRETS
    )
    ciphertext = credential.secrets_ciphertext

    provider_credential_update(credential=credential, is_active=False)

    stored = ProviderCredential.objects.get()
    assert (stored.is_active, stored.secrets_ciphertext) == (False, ciphertext)


def test_keys_rotate_newest_first(settings: LazySettings) -> None:
    settings.BREEZE_ENCRYPTION_KEY = "old-key"
    token = encrypt_json({"api_key": "k"})

    settings.BREEZE_ENCRYPTION_KEY = "new-key,old-key"
    rotated = reencrypt(token)
    assert decrypt_json(token) == {"api_key": "k"}

    settings.BREEZE_ENCRYPTION_KEY = "new-key"
    assert decrypt_json(rotated) == {"api_key": "k"}
    with pytest.raises(DecryptionError):
        decrypt_json(token)
