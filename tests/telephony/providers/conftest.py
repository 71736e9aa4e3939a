from __future__ import annotations

import json
from collections.abc import Callable
from typing import cast

import pytest
from django.conf import LazySettings

from calls.models import Call
from calls.services import call_create
from calls.voice import pool
from calls.voice.control import _key
from config.services import provider_credential_create
from templates_app.models import TemplateVersion
from tests.calls.conftest import ORDER_PAYLOAD
from tests.conftest import Tenants

PUBLIC = "https://breeze.example.com"
CUSTOMER = "+15555550123"
CALLER = "+15555550100"


@pytest.fixture(autouse=True)
def public_base_url(settings: LazySettings) -> None:
    # Providers call the public https address; the test client speaks to "testserver".
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def provider_call(
    tenants: Tenants, published: TemplateVersion
) -> Callable[[str, dict[str, str] | None], Call]:
    """A queued call on `provider` for Acme, which holds `secrets` (if any) for it."""

    def make(provider: str, secrets: dict[str, str] | None) -> Call:
        if secrets is not None:
            provider_credential_create(merchant=tenants.acme, provider=provider, secrets=secrets)
        return call_create(
            version=published,
            execution_mode=Call.ExecutionMode.TELEPHONY,
            provider=provider,
            customer_phone=CUSTOMER,
            payload=ORDER_PAYLOAD,
        )

    return make


def control_messages(call: Call) -> list[dict[str, str]]:
    """What provider callbacks queued for the call's worker (calls/voice/control.py)."""
    client = pool.sync_client()
    try:
        queued = cast("list[bytes]", client.lrange(_key(call.pk), 0, -1))
        return [json.loads(raw) for raw in queued]
    finally:
        client.close()
