"""`setup_demo` with the provider sandbox on: acme's sandbox credentials and templates."""

from __future__ import annotations

import io

from django.conf import LazySettings
from django.core.management import call_command

from config.models import ProviderCredential
from config.selectors import provider_credential_secrets
from config.services import provider_credential_create
from telephony.sandbox.credentials import SANDBOX_CALLER, SANDBOX_SECRETS
from templates_app.models import Template, TemplateVersion


def test_setup_demo_gives_acme_the_sandbox_once(db: None, settings: LazySettings) -> None:
    settings.BREEZE_ADMIN_PASSWORD = "demo-pass-123"
    settings.BREEZE_PROVIDER_SANDBOX = True
    output = io.StringIO()

    call_command("setup_demo", stdout=output)
    call_command("setup_demo", stdout=output)

    credentials = ProviderCredential.objects.filter(merchant__slug="acme")
    assert sorted(credentials.values_list("provider", flat=True)) == [
        "daily",
        "exotel",
        "plivo",
        "twilio",
    ]
    for credential in credentials:
        assert (
            provider_credential_secrets(credential=credential)
            == (SANDBOX_SECRETS[credential.provider])
        )
    templates = Template.objects.filter(merchant__slug="acme", slug__startswith="sandbox-")
    assert sorted(templates.values_list("slug", flat=True)) == [
        "sandbox-exotel",
        "sandbox-plivo",
        "sandbox-twilio",
    ]
    for template in templates:
        version = template.versions.get(status=TemplateVersion.Status.PUBLISHED)
        assert version.definition["execution"]["telephony_providers"] == [
            {
                "provider": template.slug.removeprefix("sandbox-"),
                "caller_numbers": [SANDBOX_CALLER],
                "number_selection": "first",
            }
        ]
    assert "Provider sandbox at http://127.0.0.1:8010" in output.getvalue()
    assert not ProviderCredential.objects.filter(merchant__slug="globex").exists()


def test_setup_demo_leaves_a_real_credential_and_the_sandbox_off_alone(
    db: None, settings: LazySettings
) -> None:
    settings.BREEZE_ADMIN_PASSWORD = "demo-pass-123"
    call_command("setup_demo", stdout=io.StringIO())
    assert not ProviderCredential.objects.exists()
    assert not Template.objects.filter(slug__startswith="sandbox-").exists()

    acme = Template.objects.get(merchant__slug="acme", slug="order-confirmation").merchant
    real = {"account_sid": "AC" + "9" * 32, "auth_token": "real", "caller_number": "+15555550100"}
    provider_credential_create(merchant=acme, provider="twilio", secrets=real)
    settings.BREEZE_PROVIDER_SANDBOX = True
    call_command("setup_demo", stdout=io.StringIO())

    twilio = ProviderCredential.objects.get(merchant=acme, provider="twilio")
    assert provider_credential_secrets(credential=twilio) == real
    assert ProviderCredential.objects.filter(merchant=acme).count() == 4
