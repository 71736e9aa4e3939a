"""Delivering the outbox: one claimed HTTP attempt at a time, retries, the sweeper, the breaker."""

from __future__ import annotations

import email.utils
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from calls.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from calls.webhooks.signing import signature_header
from config.crypto import decrypt_text

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
RESPONSE_BODY_LIMIT = 2000
# Retries due sooner than this are queued with a countdown; later ones wait for the sweeper
# (Redis redelivers unacknowledged countdown tasks after its visibility timeout).
COUNTDOWN_LIMIT_SECONDS = 60
RETRY_AFTER_LIMIT_SECONDS = 24 * 3600
_random = secrets.SystemRandom()
_client: httpx.Client | None = None


def _http() -> httpx.Client:
    # One pooled client per process keeps connections to busy receivers open.
    global _client  # noqa: PLW0603
    if _client is None:
        _client = httpx.Client(follow_redirects=False)
    return _client


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(
        settings.WEBHOOK_READ_TIMEOUT_SECONDS, connect=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS
    )


@dataclass(frozen=True)
class _Result:
    status_code: int | None = None
    body: str = ""
    error: str = ""
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        if self.status_code is None:
            return True  # network error or timeout
        return self.status_code in {408, 429} or self.status_code >= 500


def _retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def _signing_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    found = [decrypt_text(endpoint.secret_ciphertext)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_ciphertext and expires is not None and expires > now:
        found.append(decrypt_text(endpoint.previous_secret_ciphertext))
    return found


def _post(*, url: str, delivery: WebhookDelivery, signers: list[str]) -> _Result:
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Breeze-Webhooks/1",
        "Breeze-Event-Id": delivery.event_id,
        "Breeze-Event-Type": delivery.event_type,
        "Breeze-Timestamp": str(timestamp),
        "Breeze-Signature": signature_header(secrets=signers, timestamp=timestamp, body=body),
    }
    try:
        with _http().stream(
            "POST", url, content=body, headers=headers, timeout=_timeout()
        ) as response:
            received = b""
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) >= RESPONSE_BODY_LIMIT:
                    break
            return _Result(
                status_code=response.status_code,
                body=received[:RESPONSE_BODY_LIMIT].decode(errors="replace"),
                retry_after=_retry_after(response.headers.get("Retry-After"), now=timezone.now()),
            )
    except httpx.TimeoutException as error:
        return _Result(error=f"timeout: {type(error).__name__}")
    except httpx.HTTPError as error:
        return _Result(error=f"{type(error).__name__}: {error}"[:500])


def _circuit_allows(endpoint: WebhookEndpoint, delivery_id: int, *, now: datetime) -> bool:
    """Whether to attempt now; while the circuit is open the delivery waits for it to close.

    After the cooling period one delivery (the one that re-arms the breaker) probes the
    endpoint; the others wait another period unless the probe succeeds and closes it.
    """
    open_until = endpoint.circuit_open_until
    if open_until is None:
        return True
    if open_until <= now:
        reopen = now + timedelta(seconds=settings.WEBHOOK_CIRCUIT_COOLDOWN_SECONDS)
        if WebhookEndpoint.objects.filter(pk=endpoint.pk, circuit_open_until=open_until).update(
            circuit_open_until=reopen
        ):
            return True
        open_until = reopen
    WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).update(
        next_attempt_at=open_until, updated_at=now
    )
    return False


def _record_endpoint_result(endpoint_id: int, *, succeeded: bool, now: datetime) -> None:
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint_id)
    if succeeded:
        endpoints.filter(
            Q(consecutive_failures__gt=0) | Q(circuit_open_until__isnull=False)
        ).update(consecutive_failures=0, circuit_open_until=None)
        return
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    endpoints.filter(
        consecutive_failures__gte=settings.WEBHOOK_CIRCUIT_FAILURE_THRESHOLD,
        circuit_open_until__isnull=True,
    ).update(circuit_open_until=now + timedelta(seconds=settings.WEBHOOK_CIRCUIT_COOLDOWN_SECONDS))


def _retry_delay(*, attempt: int, retry_after: float | None) -> float | None:
    """Seconds before the next attempt, or None when the schedule is spent."""
    schedule: list[int] = settings.WEBHOOK_RETRY_SCHEDULE
    if attempt > len(schedule):
        return None
    jitter = settings.WEBHOOK_RETRY_JITTER_PERCENT / 100
    delay = schedule[attempt - 1] * _random.uniform(1 - jitter, 1 + jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_LIMIT_SECONDS))
    return delay


def _describe(result: _Result) -> str:
    if result.status_code is None:
        return result.error
    return f"HTTP {result.status_code}: {result.body[:200]}".strip()


def webhook_delivery_attempt(*, delivery_id: int) -> None:
    """Make one attempt at a due, pending delivery; anything else is a no-op.

    So a task run twice changes nothing: the claim is a conditional UPDATE holding a lease
    the sweeper honours.
    """
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now)
        .first()
    )
    if delivery is None:
        return
    endpoint = delivery.endpoint
    if endpoint is not None and not _circuit_allows(endpoint, delivery.pk, now=now):
        return
    number = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=Status.PENDING, attempts=delivery.attempts
    ).update(
        status=Status.DELIVERING,
        attempts=number,
        lease_expires_at=now + timedelta(seconds=settings.WEBHOOK_DELIVERY_LEASE_SECONDS),
        updated_at=now,
    )
    if not claimed:
        return

    signer = endpoint
    if endpoint is None:
        signer = WebhookEndpoint.objects.filter(
            merchant_id=delivery.merchant_id, is_default=True
        ).first()
    started = timezone.now()
    clock = time.monotonic()
    if endpoint is not None and not endpoint.is_active:
        result = _Result(error="the endpoint is inactive")
        permanent = True
    elif signer is None:
        result = _Result(error="no default webhook endpoint: its secret signs lead deliveries")
        permanent = True
    else:
        url = endpoint.url if endpoint is not None else delivery.target_url
        result = _post(url=url, delivery=delivery, signers=_signing_secrets(signer, now=started))
        permanent = not result.succeeded and not result.retryable
    _finish(
        delivery,
        number=number,
        result=result,
        permanent=permanent,
        started=started,
        duration_ms=int((time.monotonic() - clock) * 1000),
    )


def _finish(
    delivery: WebhookDelivery,
    *,
    number: int,
    result: _Result,
    permanent: bool,
    started: datetime,
    duration_ms: int,
) -> None:
    now = timezone.now()
    url = delivery.endpoint.url if delivery.endpoint is not None else delivery.target_url
    delay: float | None = None
    if result.succeeded:
        fields = {"status": Status.SUCCEEDED, "delivered_at": now, "last_error": ""}
    elif (
        permanent or (delay := _retry_delay(attempt=number, retry_after=result.retry_after)) is None
    ):
        fields = {
            "status": Status.FAILED if permanent else Status.DEAD,
            "last_error": _describe(result)[:500],
        }
    else:
        fields = {
            "status": Status.PENDING,
            "next_attempt_at": now + timedelta(seconds=delay),
            "last_error": _describe(result)[:500],
        }
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(
            [
                WebhookAttempt(
                    delivery=delivery,
                    number=number,
                    url=url,
                    started_at=started,
                    duration_ms=duration_ms,
                    status_code=result.status_code,
                    response_body=result.body[:RESPONSE_BODY_LIMIT],
                    error=result.error,
                )
            ],
            ignore_conflicts=True,
        )
        # Only while our claim still holds: a lease the sweeper took back is not ours to close.
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status=Status.DELIVERING, attempts=number
        ).update(lease_expires_at=None, updated_at=now, **fields)
        # Refusals (4xx) and our own reasons say nothing about the receiver's health.
        if delivery.endpoint_id is not None and not permanent:
            _record_endpoint_result(delivery.endpoint_id, succeeded=result.succeeded, now=now)
        if delay is not None and delay <= COUNTDOWN_LIMIT_SECONDS:
            from calls.webhooks.tasks import webhook_deliver_task

            transaction.on_commit(
                lambda: webhook_deliver_task.apply_async(args=(delivery.pk,), countdown=delay)
            )


def webhook_deliveries_sweep() -> int:
    """Hand out again what no queued task will deliver; returns how many were enqueued.

    That is due pending deliveries (their task was lost with Redis, or they waited for a long
    retry or a circuit) and claims whose lease lapsed (the worker died mid-delivery).
    """
    from calls.webhooks.tasks import webhook_deliver_task

    now = timezone.now()
    batch = settings.WEBHOOK_SWEEP_BATCH
    lapsed = list(
        WebhookDelivery.objects.filter(status=Status.DELIVERING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("pk", "attempts", "lease_expires_at")[:batch]
    )
    lease = timedelta(seconds=settings.WEBHOOK_DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(
            [
                WebhookAttempt(
                    delivery_id=pk,
                    number=attempts,
                    url="",
                    started_at=expires - lease,
                    duration_ms=0,
                    error="no result: the worker was lost mid-delivery",
                )
                for pk, attempts, expires in lapsed
                if expires is not None
            ],
            ignore_conflicts=True,
        )
        for pk, attempts, _ in lapsed:
            WebhookDelivery.objects.filter(
                pk=pk, status=Status.DELIVERING, attempts=attempts
            ).update(
                status=Status.PENDING,
                next_attempt_at=now,
                lease_expires_at=None,
                last_error="the worker was lost mid-delivery",
                updated_at=now,
            )
    due = list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING,
            next_attempt_at__lte=now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
    delivery_ids = list(dict.fromkeys([pk for pk, _, _ in lapsed] + due))
    for delivery_id in delivery_ids:
        webhook_deliver_task.delay(delivery_id)
    if delivery_ids:
        logger.info("webhook sweeper: enqueued %d deliveries", len(delivery_ids))
    return len(delivery_ids)
