"""Webhook writes: endpoints and their secrets, the outbox (emit) and replays."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calls.webhooks.events import API_VERSION, EventType
from calls.webhooks.exceptions import WebhookEndpointError
from calls.webhooks.models import WebhookDelivery, WebhookEndpoint
from config.crypto import encrypt_text
from config.tracing.context import traceparent_current


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    unknown = [name for name in chosen if name not in EventType.__members__.values()]
    if unknown:
        raise WebhookEndpointError(
            f"unknown event types: {', '.join(unknown)}", field="event_types"
        )
    return chosen


def webhook_endpoint_create(
    *,
    merchant_id: int,
    url: str,
    event_types: Iterable[str] = (),
    description: str = "",
    is_active: bool = True,
    is_default: bool | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; returns it with its plain secret, which is never shown again.

    A merchant's first endpoint becomes its default unless told otherwise.
    """
    secret = _new_secret()
    with transaction.atomic():
        has_default = WebhookEndpoint.objects.filter(
            merchant_id=merchant_id, is_default=True
        ).exists()
        make_default = (not has_default) if is_default is None else is_default
        if make_default:
            WebhookEndpoint.objects.filter(merchant_id=merchant_id).update(is_default=False)
        endpoint = WebhookEndpoint.objects.create(
            merchant_id=merchant_id,
            url=url,
            event_types=_clean_event_types(event_types),
            description=description,
            is_active=is_active,
            is_default=make_default,
            secret_ciphertext=encrypt_text(secret),
        )
    return endpoint, secret


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change url, event_types, description, is_active or is_default (one default per merchant)."""
    allowed = {"url", "event_types", "description", "is_active", "is_default"}
    unknown = set(changes) - allowed
    if unknown:
        raise WebhookEndpointError(f"cannot change {', '.join(sorted(unknown))}")
    if "event_types" in changes:
        changes["event_types"] = _clean_event_types(changes["event_types"])
    with transaction.atomic():
        if changes.get("is_default"):
            WebhookEndpoint.objects.filter(merchant_id=endpoint.merchant_id).exclude(
                pk=endpoint.pk
            ).update(is_default=False)
        for name, value in changes.items():
            setattr(endpoint, name, value)
        endpoint.save(update_fields=[*changes, "updated_at"])
    return endpoint


def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, overlap_seconds: int | None = None
) -> str:
    """Give the endpoint a new secret; the old one keeps signing too until the overlap ends."""
    overlap = (
        settings.WEBHOOK_SECRET_OVERLAP_SECONDS if overlap_seconds is None else overlap_seconds
    )
    secret = _new_secret()
    with transaction.atomic():
        current = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        current.previous_secret_ciphertext = current.secret_ciphertext if overlap > 0 else ""
        current.previous_secret_expires_at = (
            timezone.now() + timedelta(seconds=overlap) if overlap > 0 else None
        )
        current.secret_ciphertext = encrypt_text(secret)
        current.save(
            update_fields=[
                "secret_ciphertext",
                "previous_secret_ciphertext",
                "previous_secret_expires_at",
                "updated_at",
            ]
        )
    endpoint.__dict__.update(current.__dict__)
    return secret


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its deliveries (their events stop being delivered)."""
    endpoint.delete()


def _enqueue(delivery_ids: list[int]) -> None:
    from calls.webhooks.tasks import webhook_deliver_task

    def send() -> None:
        for delivery_id in delivery_ids:
            webhook_deliver_task.delay(delivery_id)

    transaction.on_commit(send)


def webhook_event_emit(
    *,
    merchant_id: int,
    event_type: EventType,
    data: Mapping[str, Any],
    lead_webhook_url: str = "",
) -> str:
    """Write the event's deliveries in the caller's transaction; returns the event id.

    One delivery per subscribed active endpoint, and one to the lead's own URL if given;
    each is delivered after the transaction commits. Call this inside the transaction that makes the change the event reports, so the event
    exists exactly when the change does.
    """
    now = timezone.now()
    event_id = f"evt_{uuid.uuid4().hex}"
    event = {
        "id": event_id,
        "type": event_type.value,
        "created_at": now.isoformat(),
        "api_version": API_VERSION,
        "data": dict(data),
    }
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True)
        if not endpoint.event_types or event_type.value in endpoint.event_types
    ]
    common = {
        "merchant_id": merchant_id,
        "event_id": event_id,
        "event_type": event_type.value,
        "payload": event,
        "next_attempt_at": now,
        "traceparent": traceparent_current(),
    }
    deliveries = [WebhookDelivery(endpoint=endpoint, **common) for endpoint in endpoints]
    if lead_webhook_url:
        deliveries.append(WebhookDelivery(target_url=lead_webhook_url, **common))
    if deliveries:
        created = WebhookDelivery.objects.bulk_create(deliveries)
        _enqueue([delivery.pk for delivery in created])
    return event_id


def webhook_delivery_replay(*, deliveries: Iterable[WebhookDelivery]) -> list[WebhookDelivery]:
    """Deliver the same events again, as new deliveries with the same event ids."""
    now = timezone.now()
    replays = [
        WebhookDelivery(
            merchant_id=original.merchant_id,
            endpoint_id=original.endpoint_id,
            target_url=original.target_url,
            event_id=original.event_id,
            event_type=original.event_type,
            payload=original.payload,
            next_attempt_at=now,
            replay_of=original,
            traceparent=original.traceparent,
        )
        for original in deliveries
    ]
    with transaction.atomic():
        created = WebhookDelivery.objects.bulk_create(replays)
        _enqueue([delivery.pk for delivery in created])
    return created
