from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from calls.webhooks.events import EventType
from calls.webhooks.models import WebhookDelivery, WebhookEndpoint
from calls.webhooks.services import webhook_endpoint_create
from config.crypto import decrypt_text
from tests.calls.webhooks.conftest import Receiver
from tests.conftest import Tenants

pytestmark = pytest.mark.django_db
Emit = Callable[..., WebhookDelivery]


@pytest.fixture
def api(member_of_acme: Callable[[str], User]) -> Callable[[str], APIClient]:
    def client_for(role: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=member_of_acme(role))
        return client

    return client_for


def test_a_merchant_admin_creates_an_endpoint_and_sees_its_secret_once(
    api: Callable[[str], APIClient], tenants: Tenants
) -> None:
    client = api("merchant_admin")

    created = client.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://shop.example/hooks", "event_types": ["call.completed"]},
        format="json",
    )
    listed = client.get("/api/v1/webhook-endpoints")

    endpoint = WebhookEndpoint.objects.get()
    body = created.json()
    assert created.status_code == 201
    assert body["secret"] == decrypt_text(endpoint.secret_ciphertext)
    assert body["secret"].startswith("whsec_")
    assert (body["merchant"], body["event_types"], body["is_default"]) == (
        "acme",
        ["call.completed"],
        True,
    )
    assert [row["id"] for row in listed.json()["results"]] == [endpoint.pk]
    assert "secret" not in listed.json()["results"][0]


def test_an_unknown_event_type_is_a_validation_error_naming_it(
    api: Callable[[str], APIClient],
) -> None:
    answer = api("merchant_admin").post(
        "/api/v1/webhook-endpoints",
        {"url": "https://shop.example/hooks", "event_types": ["call.completed", "call.exploded"]},
        format="json",
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["fields"] == [
        {
            "field": "event_types.1",
            "code": "invalid_choice",
            "message": '"call.exploded" is not a valid choice.',
        }
    ]
    assert not WebhookEndpoint.objects.exists()


def test_another_merchants_endpoint_is_not_found_and_viewers_may_not_write(
    api: Callable[[str], APIClient], tenants: Tenants
) -> None:
    theirs, _ = webhook_endpoint_create(merchant_id=tenants.globex.pk, url="https://g.example/h")
    ours, _ = webhook_endpoint_create(merchant_id=tenants.acme.pk, url="https://a.example/h")
    viewer = api("viewer")

    assert viewer.get(f"/api/v1/webhook-endpoints/{theirs.pk}").status_code == 404
    assert api("merchant_admin").delete(f"/api/v1/webhook-endpoints/{theirs.pk}").status_code == 404
    assert viewer.get(f"/api/v1/webhook-endpoints/{ours.pk}").status_code == 200
    assert (
        viewer.patch(f"/api/v1/webhook-endpoints/{ours.pk}", {"is_active": False}).status_code
        == 403
    )
    assert viewer.post(f"/api/v1/webhook-endpoints/{ours.pk}/rotate-secret").status_code == 403
    assert [row["id"] for row in viewer.get("/api/v1/webhook-endpoints").json()["results"]] == [
        ours.pk
    ]
    assert WebhookEndpoint.objects.get(pk=ours.pk).is_active is True
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()


def test_update_rotate_and_delete(api: Callable[[str], APIClient], tenants: Tenants) -> None:
    endpoint, old_secret = webhook_endpoint_create(
        merchant_id=tenants.acme.pk, url="https://a.example/h"
    )
    client = api("merchant_admin")

    patched = client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}",
        {"url": "https://a.example/v2", "event_types": []},
        format="json",
    )
    rotated = client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret")
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    deleted = client.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}")

    assert (patched.status_code, patched.json()["url"]) == (200, "https://a.example/v2")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] == decrypt_text(stored.secret_ciphertext)
    assert decrypt_text(stored.previous_secret_ciphertext) == old_secret
    assert stored.previous_secret_expires_at is not None
    expected_expiry = timezone.now() + timedelta(days=1)
    assert abs((stored.previous_secret_expires_at - expected_expiry).total_seconds()) < 5
    assert deleted.status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_are_listed_filtered_inspected_and_replayed(
    api: Callable[[str], APIClient], receiver: Receiver, emit: Emit, tenants: Tenants
) -> None:
    started = emit(EventType.CALL_STARTED)
    completed = emit(EventType.CALL_COMPLETED)
    WebhookDelivery.objects.filter(pk=completed.pk).update(status="dead", last_error="HTTP 500")
    client = api("merchant_admin")

    dead = client.get("/api/v1/webhook-deliveries", {"status": "dead"})
    by_type = client.get("/api/v1/webhook-deliveries", {"event_type": "call.started"})
    detail = client.get(f"/api/v1/webhook-deliveries/{completed.pk}")
    replayed = client.post(f"/api/v1/webhook-deliveries/{completed.pk}/replay")
    refused = api("viewer").post(f"/api/v1/webhook-deliveries/{completed.pk}/replay")

    assert [row["id"] for row in dead.json()["results"]] == [completed.pk]
    assert [row["id"] for row in by_type.json()["results"]] == [started.pk]
    assert detail.json()["payload"]["id"] == completed.event_id
    assert detail.json()["attempts_log"] == []
    assert replayed.status_code == 202
    replay = WebhookDelivery.objects.get(pk=replayed.json()["id"])
    assert (replay.event_id, replay.replay_of_id, replay.status) == (
        completed.event_id,
        completed.pk,
        "pending",
    )
    assert refused.status_code == 403
