"""Delivering the outbox: one claimed HTTP attempt at a time, retries and the circuit breaker.

This runs once per delivery at hundreds per second, so the claim and the result are one SQL
statement each, and workers keep endpoints (URL, secrets, breaker state) for a couple of
seconds instead of reading them per delivery.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from opentelemetry.trace import Span, SpanKind, StatusCode

from calls.webhooks.http import RESPONSE_BODY_LIMIT, PostResult, event_post
from calls.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from config.crypto import decrypt_text
from config.tracing.context import span_from

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# Retries due sooner than this are queued with a countdown; later ones wait for the sweeper
# (Redis redelivers unacknowledged countdown tasks after its visibility timeout).
COUNTDOWN_LIMIT_SECONDS = 60
RETRY_AFTER_LIMIT_SECONDS = 24 * 3600
# How stale a worker's view of an endpoint may be: edits and rotations reach it this late.
ENDPOINT_CACHE_SECONDS = 2.0
_random = secrets.SystemRandom()

_DELIVERY = WebhookDelivery._meta.db_table
_ATTEMPT = WebhookAttempt._meta.db_table
# The claim: a due, pending delivery becomes ours for one attempt, or nothing happens.
_CLAIM_SQL = f"""
    UPDATE {_DELIVERY}
    SET status = 'delivering', attempts = attempts + 1, lease_expires_at = %s, updated_at = %s
    WHERE id = %s AND status = 'pending' AND next_attempt_at <= %s
    RETURNING attempts, merchant_id, endpoint_id, target_url, event_id, event_type, payload,
        traceparent
"""  # noqa: S608  (table names from the models, values as parameters)
# The result: the attempt's row and the delivery's new state, only while the claim holds.
_FINISH_SQL = f"""
    WITH attempt AS (
        INSERT INTO {_ATTEMPT}
            (delivery_id, number, url, started_at, duration_ms, status_code, response_body, error)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (delivery_id, number) DO NOTHING
    )
    UPDATE {_DELIVERY}
    SET status = %s, next_attempt_at = COALESCE(%s, next_attempt_at), last_error = %s,
        delivered_at = COALESCE(%s, delivered_at), lease_expires_at = NULL, updated_at = %s
    WHERE id = %s AND status = 'delivering' AND attempts = %s
"""  # noqa: S608
_RELEASE_SQL = f"""
    UPDATE {_DELIVERY}
    SET status = 'pending', attempts = attempts - 1, next_attempt_at = %s,
        lease_expires_at = NULL, updated_at = %s
    WHERE id = %s AND status = 'delivering' AND attempts = %s
"""  # noqa: S608


@dataclass(frozen=True)
class _Endpoint:
    """An endpoint as a worker uses it, with its secrets decrypted."""

    pk: int
    url: str
    is_active: bool
    secret: str
    previous_secret: str
    previous_secret_expires_at: datetime | None
    consecutive_failures: int
    circuit_open_until: datetime | None

    def signing_secrets(self, *, now: datetime) -> list[str]:
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:
            return [self.secret, self.previous_secret]
        return [self.secret]


_endpoints: dict[int, tuple[float, _Endpoint | None]] = {}
_defaults: dict[int, tuple[float, int | None]] = {}


def endpoint_cache_clear() -> None:
    _endpoints.clear()
    _defaults.clear()


def _endpoint(pk: int) -> _Endpoint | None:
    cached = _endpoints.get(pk)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = WebhookEndpoint.objects.filter(pk=pk).first()
    view = None
    if row is not None:
        view = _Endpoint(
            pk=row.pk,
            url=row.url,
            is_active=row.is_active,
            secret=decrypt_text(row.secret_ciphertext),
            previous_secret=(
                decrypt_text(row.previous_secret_ciphertext)
                if row.previous_secret_ciphertext
                else ""
            ),
            previous_secret_expires_at=row.previous_secret_expires_at,
            consecutive_failures=row.consecutive_failures,
            circuit_open_until=row.circuit_open_until,
        )
    _endpoints[pk] = (time.monotonic() + ENDPOINT_CACHE_SECONDS, view)
    return view


def _default_endpoint(merchant_id: int) -> _Endpoint | None:
    cached = _defaults.get(merchant_id)
    if cached is None or cached[0] <= time.monotonic():
        pk = (
            WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_default=True)
            .values_list("pk", flat=True)
            .first()
        )
        cached = (time.monotonic() + ENDPOINT_CACHE_SECONDS, pk)
        _defaults[merchant_id] = cached
    return None if cached[1] is None else _endpoint(cached[1])


def _circuit_allows(endpoint: _Endpoint, *, now: datetime) -> datetime | None:
    """None to go ahead; otherwise when to try again, because the circuit is open.

    After the cooling period one delivery (the one that re-arms the breaker) probes the
    endpoint; the others wait another period unless the probe succeeds and closes it.
    """
    open_until = endpoint.circuit_open_until
    if open_until is None:
        return None
    if open_until <= now:
        reopen = now + timedelta(seconds=settings.WEBHOOK_CIRCUIT_COOLDOWN_SECONDS)
        _endpoints.pop(endpoint.pk, None)
        if WebhookEndpoint.objects.filter(pk=endpoint.pk, circuit_open_until=open_until).update(
            circuit_open_until=reopen
        ):
            return None
        return reopen
    return open_until


def _record_endpoint_result(endpoint: _Endpoint, *, succeeded: bool, now: datetime) -> None:
    if succeeded and endpoint.consecutive_failures == 0 and endpoint.circuit_open_until is None:
        return  # the common case costs no write
    _endpoints.pop(endpoint.pk, None)
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
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


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    number: int
    merchant_id: int
    endpoint_id: int | None
    target_url: str
    event_id: str
    event_type: str
    body: bytes
    traceparent: str


def _claim(delivery_id: int, *, now: datetime) -> _Claim | None:
    lease = now + timedelta(seconds=settings.WEBHOOK_DELIVERY_LEASE_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [lease, now, delivery_id, now])
        row = cursor.fetchone()
    if row is None:
        return None
    number, merchant_id, endpoint_id, target_url, event_id, event_type, payload, parent = row
    # The stored JSON text is sent as it is: those are the bytes the signature covers.
    body = payload.encode() if isinstance(payload, str) else payload
    return _Claim(
        delivery_id,
        number,
        merchant_id,
        endpoint_id,
        target_url,
        event_id,
        event_type,
        body,
        parent,
    )


def webhook_delivery_attempt(*, delivery_id: int) -> None:
    """Make one attempt at a due, pending delivery; anything else is a no-op.

    So a task run twice changes nothing: the claim is a conditional UPDATE holding a lease
    the sweeper honours.
    """
    now = timezone.now()
    claim = _claim(delivery_id, now=now)
    if claim is None:
        return
    # In the trace of the change that wrote the event, also when the sweeper re-enqueued it.
    with span_from(
        claim.traceparent,
        "webhook.deliver",
        kind=SpanKind.CLIENT,
        attributes={
            "breeze.webhook.delivery_id": delivery_id,
            "breeze.webhook.event_type": claim.event_type,
            "breeze.webhook.attempt": claim.number,
        },
    ) as span:
        _attempt(claim, now=now, span=span)


def _attempt(claim: _Claim, *, now: datetime, span: Span) -> None:
    endpoint = _endpoint(claim.endpoint_id) if claim.endpoint_id is not None else None
    if endpoint is not None:
        wait_until = _circuit_allows(endpoint, now=now)
        if wait_until is not None:
            with connection.cursor() as cursor:
                cursor.execute(_RELEASE_SQL, [wait_until, now, claim.delivery_id, claim.number])
            return
    signer = endpoint if claim.endpoint_id is not None else _default_endpoint(claim.merchant_id)
    started = timezone.now()
    clock = time.monotonic()
    url = endpoint.url if endpoint is not None else claim.target_url
    if claim.endpoint_id is not None and (endpoint is None or not endpoint.is_active):
        result = PostResult(error="the endpoint is inactive")
        permanent = True
    elif signer is None:
        result = PostResult(error="no default webhook endpoint: its secret signs lead deliveries")
        permanent = True
    else:
        result = event_post(
            url=url,
            body=claim.body,
            event_id=claim.event_id,
            event_type=claim.event_type,
            secrets=signer.signing_secrets(now=started),
        )
        permanent = not result.succeeded and not result.retryable
    if result.status_code is not None:
        span.set_attribute("http.response.status_code", result.status_code)
    if not result.succeeded:
        span.set_status(StatusCode.ERROR, result.describe()[:200])
    _finish(
        claim,
        url=url,
        endpoint=endpoint,
        result=result,
        permanent=permanent,
        started=started,
        duration_ms=int((time.monotonic() - clock) * 1000),
    )


def _finish(
    claim: _Claim,
    *,
    url: str,
    endpoint: _Endpoint | None,
    result: PostResult,
    permanent: bool,
    started: datetime,
    duration_ms: int,
) -> None:
    now = timezone.now()
    delay: float | None = None
    next_attempt_at = delivered_at = None
    if result.succeeded:
        status, delivered_at = Status.SUCCEEDED, now
    elif permanent:
        status = Status.FAILED
    elif (delay := _retry_delay(attempt=claim.number, retry_after=result.retry_after)) is None:
        status = Status.DEAD
    else:
        status, next_attempt_at = Status.PENDING, now + timedelta(seconds=delay)
    last_error = "" if result.succeeded else result.describe()[:500]
    with connection.cursor() as cursor:
        cursor.execute(
            _FINISH_SQL,
            [
                claim.delivery_id,
                claim.number,
                url,
                started,
                duration_ms,
                result.status_code,
                result.body[:RESPONSE_BODY_LIMIT],
                result.error,
                status,
                next_attempt_at,
                last_error,
                delivered_at,
                now,
                claim.delivery_id,
                claim.number,
            ],
        )
    # Refusals (4xx) and our own reasons say nothing about the receiver's health.
    if endpoint is not None and not permanent:
        _record_endpoint_result(endpoint, succeeded=result.succeeded, now=now)
    if delay is not None and delay <= COUNTDOWN_LIMIT_SECONDS:
        from calls.webhooks.tasks import webhook_deliver_task

        webhook_deliver_task.apply_async(args=(claim.delivery_id,), countdown=delay)
