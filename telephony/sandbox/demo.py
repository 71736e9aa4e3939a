"""The demo merchant's sandbox accounts: a credential per vendor and a template per provider.

Run by `setup_demo` when `BREEZE_PROVIDER_SANDBOX` is on; idempotent, and a credential the
merchant already has (a real account, say) is left alone.
"""

from __future__ import annotations

from typing import Final

from config.models import Merchant, ProviderCredential
from config.services import provider_credential_create
from telephony.sandbox.credentials import SANDBOX_CALLER, SANDBOX_SECRETS
from templates_app.demo import demo_definition_dialling
from templates_app.models import Template
from templates_app.services import template_create, template_version_publish

# The phone providers' demo templates: the order confirmation, dialling through each.
SANDBOX_TEMPLATES: Final = {
    "twilio": "sandbox-twilio",
    "plivo": "sandbox-plivo",
    "exotel": "sandbox-exotel",
}
SANDBOX_TEMPLATE_SOURCE: Final = "order-confirmation"


def sandbox_demo_ensure(*, merchant: Merchant) -> dict[str, str]:
    """Credentials for every sandbox vendor and the templates; {provider: template slug}."""
    for provider, secrets in SANDBOX_SECRETS.items():
        held = ProviderCredential.objects.filter(
            merchant=merchant, provider=provider, label="default"
        )
        if not held.exists():
            provider_credential_create(merchant=merchant, provider=provider, secrets=secrets)
    for provider, slug in SANDBOX_TEMPLATES.items():
        if Template.objects.filter(merchant=merchant, slug=slug).exists():
            continue
        template = template_create(
            merchant=merchant,
            slug=slug,
            name=f"Order confirmation through the {provider} sandbox",
            definition=demo_definition_dialling(
                SANDBOX_TEMPLATE_SOURCE, provider=provider, caller=SANDBOX_CALLER
            ),
        )
        template_version_publish(version=template.versions.get())
    return dict(SANDBOX_TEMPLATES)
