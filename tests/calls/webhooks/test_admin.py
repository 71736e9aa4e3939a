from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_httpserver import HTTPServer

from calls.webhooks.delivery import webhook_delivery_attempt
from calls.webhooks.events import EventType
from calls.webhooks.models import WebhookDelivery, WebhookEndpoint
from calls.webhooks.services import webhook_endpoint_create
from config.crypto import decrypt_text
from config.models import Membership
from tests.calls.webhooks.conftest import HOOK_PATH, Receiver
from tests.conftest import Tenants

pytestmark = pytest.mark.django_db
Role = Membership.Role
Emit = Callable[..., WebhookDelivery]
SECRET = re.compile(r"<code>(whsec_[^<]+)</code>")


def test_an_endpoint_added_in_the_admin_shows_its_secret_once(
    tenants: Tenants, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    added = client.post(
        reverse("admin:calls_webhookendpoint_add"),
        {
            "merchant": tenants.acme.pk,
            "url": "https://shop.example/hooks",
            "description": "orders",
            "event_types": ["call.completed", "lead.completed"],
            "is_active": "on",
        },
        follow=True,
    )
    listing = client.get(reverse("admin:calls_webhookendpoint_changelist"))

    endpoint = WebhookEndpoint.objects.get()
    shown = SECRET.findall(added.content.decode())
    assert shown == [decrypt_text(endpoint.secret_ciphertext)]
    assert (endpoint.event_types, endpoint.is_default) == (
        ["call.completed", "lead.completed"],
        True,
    )
    assert SECRET.findall(listing.content.decode()) == []


def test_rotating_in_the_admin_shows_the_new_secret_and_keeps_the_old_valid(
    receiver: Receiver, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    answer = client.post(
        reverse("admin:calls_webhookendpoint_changelist"),
        {"action": "rotate_secret", "_selected_action": [receiver.endpoint.pk]},
        follow=True,
    )

    stored = WebhookEndpoint.objects.get(pk=receiver.endpoint.pk)
    assert SECRET.findall(answer.content.decode()) == [decrypt_text(stored.secret_ciphertext)]
    assert decrypt_text(stored.previous_secret_ciphertext) == receiver.secret


def test_the_endpoint_list_shows_an_open_circuit(
    receiver: Receiver, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    until = timezone.now() + timedelta(minutes=5)
    WebhookEndpoint.objects.filter(pk=receiver.endpoint.pk).update(
        consecutive_failures=10, circuit_open_until=until
    )

    page = login(member_of_acme(Role.VIEWER)).get(reverse("admin:calls_webhookendpoint_changelist"))

    assert f"open until {until:%Y-%m-%d %H:%M:%S} (10 failures)" in page.content.decode()


def test_deliveries_are_filtered_shown_with_attempts_and_replayed(
    receiver: Receiver,
    emit: Emit,
    httpserver: HTTPServer,
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("received-by-acme", status=202)
    ours = emit(EventType.CALL_COMPLETED)
    webhook_delivery_attempt(delivery_id=ours.pk)
    emit(EventType.CALL_STARTED)
    theirs, _ = webhook_endpoint_create(merchant_id=tenants.globex.pk, url="https://g.example/h")
    WebhookDelivery.objects.create(
        merchant=tenants.globex,
        endpoint=theirs,
        event_id="evt_" + "0" * 32,
        event_type="call.completed",
        payload={},
        next_attempt_at=timezone.now(),
    )
    client = login(member_of_acme(Role.MERCHANT_ADMIN))
    changelist = reverse("admin:calls_webhookdelivery_changelist")

    filtered = client.get(changelist, {"event_type": "call.completed"})
    detail = client.get(reverse("admin:calls_webhookdelivery_change", args=[ours.pk]))
    client.post(changelist, {"action": "replay", "_selected_action": [ours.pk]})

    assert filtered.context["cl"].result_count == 1
    assert [d.pk for d in filtered.context["cl"].result_list] == [ours.pk]
    assert "received-by-acme" in detail.content.decode()
    assert re.search(r'field-status_code">\s*<p>202</p>', detail.content.decode())
    assert list(
        WebhookDelivery.objects.filter(event_id=ours.event_id).values_list("replay_of", flat=True)
    ) == [ours.pk, None]
