from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone
from pytest_django import Settings
from pytest_httpserver import HTTPServer

from calls.webhooks.delivery import endpoint_cache_clear
from calls.webhooks.events import EventType
from calls.webhooks.examples import EXAMPLE_DATA
from calls.webhooks.models import WebhookDelivery, WebhookEndpoint
from calls.webhooks.services import webhook_endpoint_create, webhook_event_emit
from tests.conftest import Tenants

HOOK_PATH = "/hooks/breeze"


@dataclass(frozen=True)
class Receiver:
    endpoint: WebhookEndpoint
    secret: str
    url: str


@pytest.fixture(autouse=True)
def webhook_settings(settings: Settings) -> Settings:
    """A short schedule without jitter, so tests can assert exact delays."""
    settings.WEBHOOK_RETRY_SCHEDULE = [10, 20, 40]
    settings.WEBHOOK_RETRY_JITTER_PERCENT = 0
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    settings.WEBHOOK_READ_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_CIRCUIT_FAILURE_THRESHOLD = 3
    settings.WEBHOOK_CIRCUIT_COOLDOWN_SECONDS = 120
    return settings


@pytest.fixture
def receiver(tenants: Tenants, httpserver: HTTPServer) -> Receiver:
    url = httpserver.url_for(HOOK_PATH)
    endpoint, secret = webhook_endpoint_create(merchant_id=tenants.acme.pk, url=url)
    return Receiver(endpoint=endpoint, secret=secret, url=url)


@pytest.fixture
def emit(tenants: Tenants) -> Callable[..., WebhookDelivery]:
    """Emit an example event for Acme and return its (first) delivery."""

    def do(
        event_type: EventType = EventType.CALL_COMPLETED, lead_webhook_url: str = ""
    ) -> WebhookDelivery:
        event_id = webhook_event_emit(
            merchant_id=tenants.acme.pk,
            event_type=event_type,
            data=EXAMPLE_DATA[event_type],
            lead_webhook_url=lead_webhook_url,
        )
        return WebhookDelivery.objects.filter(event_id=event_id).order_by("pk")[0]

    return do


def make_due(delivery: WebhookDelivery) -> None:
    """Skip the wait before the next attempt."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


@pytest.fixture(autouse=True)
def fresh_endpoint_views() -> None:
    """Tests change endpoints between attempts; workers may see a change 2 s late."""
    endpoint_cache_clear()
