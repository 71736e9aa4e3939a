"""Two merchants with one row of every kind each, and real Bearer credentials for every role."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from breeze.settings.integrations.recordings import recordings_storage
from calls.models import Call
from calls.recordings.models import Recording
from calls.recordings.services import recording_store
from calls.services import call_create
from calls.webhooks.events import EventType
from calls.webhooks.examples import EXAMPLE_DATA
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create, webhook_event_emit
from config.auth.principal import ApiKeyPrincipal
from config.models import ApiKey, Membership, Merchant
from config.services import api_key_create, api_key_revoke
from leads.campaigns.services import LeadFilter, campaign_create
from leads.imports import lead_import_start
from leads.services import lead_create
from templates_app.models import Template
from templates_app.services import template_load_demos
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS

Role = Membership.Role
MERCHANT_ROLES = [Role.MERCHANT_ADMIN, Role.OPERATOR, Role.VIEWER]
ORDER = DEMO_PAYLOADS["order-confirmation"]


def lead_body(merchant: str) -> dict[str, object]:
    return {
        "template": "order-confirmation",
        "merchant": merchant,
        "phone": "+919812345678",
        "payload": dict(ORDER),
        "execution_mode": "TELEPHONY_TEST",
    }


def order_csv() -> bytes:
    header = ",".join(["phone", *ORDER])
    return f"{header}\n+919812345678,{','.join(ORDER.values())}\n".encode()


@dataclass(frozen=True)
class World:
    """Row ids per merchant slug and kind (api_key, template, call, lead, lead_import, campaign,
    webhook_endpoint, webhook_delivery)."""

    rows: dict[str, dict[str, int]]


def _populate(merchant: Merchant) -> dict[str, int]:
    api_key, _ = api_key_create(merchant=merchant, role=Role.VIEWER, name="existing")
    template_load_demos(merchant=merchant)
    template = Template.objects.get(merchant=merchant, slug="order-confirmation")
    call = call_create(
        version=template.versions.get(),
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider="simulator",
        customer_phone="+15555550123",
        payload=ORDER,
    )
    recording_store(
        call_id=call.pk,
        source=Recording.Source.WORKER,
        content=io.BytesIO(b"RIFF"),
        content_type="audio/wav",
        duration_seconds=None,
    )
    admin_key, _ = api_key_create(merchant=merchant, role=Role.MERCHANT_ADMIN, name="setup")
    admin = ApiKeyPrincipal(admin_key)
    # Made before the lead is pushed, so it holds none: the lead stays the dispatcher's.
    campaign = campaign_create(
        merchant_id=merchant.pk,
        template_id=template.pk,
        name="existing",
        created_by="user:setup",
        lead_filter=LeadFilter(),
    )
    lead, _ = lead_create(user=admin, data=lead_body(merchant.slug))
    lead_import = lead_import_start(
        user=admin,
        file=SimpleUploadedFile("leads.csv", order_csv(), content_type="text/csv"),
        template="order-confirmation",
        merchant=merchant.slug,
        execution_mode="TELEPHONY_TEST",
    )
    endpoint, _ = webhook_endpoint_create(
        merchant_id=merchant.pk, url=f"https://{merchant.slug}.example.com/hooks"
    )
    # Its delivery is written now and would be sent on commit, which a test never reaches.
    event_id = webhook_event_emit(
        merchant_id=merchant.pk,
        event_type=EventType.CALL_COMPLETED,
        data=EXAMPLE_DATA[EventType.CALL_COMPLETED],
    )
    return {
        "api_key": api_key.pk,
        "template": template.pk,
        "call": call.pk,
        "lead": lead.pk,
        "lead_import": lead_import.pk,
        "campaign": campaign.pk,
        "webhook_endpoint": endpoint.pk,
        "webhook_delivery": WebhookDelivery.objects.get(event_id=event_id).pk,
    }


@pytest.fixture
def world(tenants: Tenants, settings: LazySettings, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": recordings_storage(bucket="", root=str(tmp_path / "recordings")),
    }
    return World(rows={m.slug: _populate(m) for m in (tenants.acme, tenants.globex)})


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def callers(tenants: Tenants, member_of_acme: Callable[[str], User]) -> dict[str, APIClient]:
    """Acme's callers by name: `<role> key` (an API key) and `<role> person` (a JWT)."""
    clients = {}
    for role in MERCHANT_ROLES:
        _, token = api_key_create(merchant=tenants.acme, role=role, name=role)
        clients[f"{role} key"] = bearer(token)
        clients[f"{role} person"] = bearer(str(AccessToken.for_user(member_of_acme(role))))
    platform_admin = member_of_acme(Role.PLATFORM_ADMIN)
    clients["platform_admin person"] = bearer(str(AccessToken.for_user(platform_admin)))
    return clients


@pytest.fixture
def refused_credentials(tenants: Tenants, member_of_acme: Callable[[str], User]) -> dict[str, str]:
    """Authorization headers that must all answer 401, by what is wrong with them."""
    revoked, revoked_token = api_key_create(
        merchant=tenants.acme, role=Role.MERCHANT_ADMIN, name="revoked"
    )
    api_key_revoke(api_key=revoked)
    expired, expired_token = api_key_create(
        merchant=tenants.acme, role=Role.MERCHANT_ADMIN, name="expired"
    )
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    old_jwt = AccessToken.for_user(member_of_acme(Role.PLATFORM_ADMIN))
    old_jwt.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=5))
    return {
        "revoked key": f"Bearer {revoked_token}",
        "expired key": f"Bearer {expired_token}",
        "wrong key secret": f"Bearer {revoked_token[:-4]}AAAA",
        "malformed key": "Bearer brz_123",
        "expired JWT": f"Bearer {old_jwt}",
        "garbage JWT": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.xxxx",
        "no scheme": revoked_token,
        "three parts": f"Bearer {expired_token} extra",
    }


def multipart_import(merchant: str) -> dict[str, object]:
    return {
        "file": SimpleUploadedFile("leads.csv", order_csv(), content_type="text/csv"),
        "template": "order-confirmation",
        "merchant": merchant,
        "execution_mode": "TELEPHONY_TEST",
    }
