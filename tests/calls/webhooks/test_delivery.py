from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django import Settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from calls.webhooks.delivery import webhook_delivery_attempt
from calls.webhooks.events import EventType
from calls.webhooks.examples import EXAMPLE_DATA
from calls.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from calls.webhooks.services import (
    webhook_delivery_replay,
    webhook_endpoint_update,
    webhook_event_emit,
)
from calls.webhooks.sweeper import webhook_deliveries_sweep
from tests.calls.webhooks.conftest import HOOK_PATH, Receiver, make_due
from tests.calls.webhooks.verify import documented_verify

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
Emit = Callable[..., WebhookDelivery]


def _codes(delivery: WebhookDelivery) -> list[int | None]:
    return list(
        WebhookAttempt.objects.filter(delivery=delivery)
        .order_by("number")
        .values_list("status_code", flat=True)
    )


def _seconds_until(when: object) -> float:
    assert isinstance(when, type(timezone.now()))
    return (when - timezone.now()).total_seconds()


def test_a_delivery_is_a_signed_json_post_with_the_event_headers(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(HOOK_PATH, method="POST").respond_with_data("thanks")
    delivery = emit(EventType.CALL_COMPLETED)

    webhook_delivery_attempt(delivery_id=delivery.pk)

    request, _ = httpserver.log[0]
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert json.loads(request.get_data()) == stored.payload
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Breeze-Event-Id"] == stored.event_id
    assert request.headers["Breeze-Event-Type"] == "call.completed"
    assert abs(int(request.headers["Breeze-Timestamp"]) - time.time()) < 5
    assert documented_verify()(receiver.secret, request.headers, request.get_data()) is True
    assert (stored.status, stored.attempts, stored.last_error) == (Status.SUCCEEDED, 1, "")
    assert stored.delivered_at is not None
    assert stored.lease_expires_at is None
    assert (attempt.number, attempt.status_code, attempt.response_body, attempt.error) == (
        1,
        200,
        "thanks",
        "",
    )


def test_500_then_200_retries_after_the_first_step_of_the_schedule(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request(HOOK_PATH).respond_with_data("oops", status=500)
    httpserver.expect_ordered_request(HOOK_PATH).respond_with_data("ok", status=204)
    delivery = emit()

    webhook_delivery_attempt(delivery_id=delivery.pk)
    waiting = WebhookDelivery.objects.get(pk=delivery.pk)
    make_due(delivery)
    webhook_delivery_attempt(delivery_id=delivery.pk)

    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (waiting.status, waiting.attempts, waiting.last_error) == (
        Status.PENDING,
        1,
        "HTTP 500: oops",
    )
    assert 9 < _seconds_until(waiting.next_attempt_at) <= 10
    assert (stored.status, stored.attempts, _codes(delivery)) == (Status.SUCCEEDED, 2, [500, 204])
    assert WebhookEndpoint.objects.get(pk=receiver.endpoint.pk).consecutive_failures == 0


@pytest.mark.parametrize("retry_after", ["90", "http-date"])
def test_429_waits_as_long_as_retry_after_says(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer, retry_after: str
) -> None:
    if retry_after == "http-date":
        when = timezone.now() + timedelta(seconds=91)
        retry_after = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    httpserver.expect_oneshot_request(HOOK_PATH).respond_with_data(
        "slow down", status=429, headers={"Retry-After": retry_after}
    )
    delivery = emit()

    webhook_delivery_attempt(delivery_id=delivery.pk)

    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.last_error) == (Status.PENDING, "HTTP 429: slow down")
    assert 88 < _seconds_until(stored.next_attempt_at) <= 91


def test_a_slow_receiver_times_out_and_the_retry_succeeds(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("late")

    httpserver.expect_ordered_request(HOOK_PATH).respond_with_handler(slow)
    httpserver.expect_ordered_request(HOOK_PATH).respond_with_data("ok")
    delivery = emit()

    webhook_delivery_attempt(delivery_id=delivery.pk)
    timed_out = WebhookDelivery.objects.get(pk=delivery.pk)
    make_due(delivery)
    webhook_delivery_attempt(delivery_id=delivery.pk)

    first = WebhookAttempt.objects.get(delivery=delivery, number=1)
    assert (timed_out.status, timed_out.last_error) == (
        Status.PENDING,
        "timeout: reading the answer",
    )
    assert (first.status_code, first.error) == (None, "timeout: reading the answer")
    assert 1000 <= first.duration_ms < 1500
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == Status.SUCCEEDED


def test_a_receiver_down_for_a_while_gets_everything_once_in_retry_order_when_back(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer, webhook_settings: Settings
) -> None:
    webhook_settings.WEBHOOK_CIRCUIT_FAILURE_THRESHOLD = 100
    httpserver.stop()
    deliveries = [emit(EventType.CALL_STARTED) for _ in range(3)]
    for delivery in deliveries:
        webhook_delivery_attempt(delivery_id=delivery.pk)
    refused = list(WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]))
    httpserver.start()
    httpserver.expect_request(HOOK_PATH).respond_with_data("ok")
    for delivery in reversed(deliveries):  # the last refused is retried first
        make_due(delivery)

    enqueued = webhook_deliveries_sweep()

    received = [request.headers["Breeze-Event-Id"] for request, _ in httpserver.log]
    assert {(d.status, d.attempts) for d in refused} == {(Status.PENDING, 1)}
    assert all(d.last_error.startswith("NewConnectionError: ") for d in refused)
    assert enqueued == 3
    assert received == [d.event_id for d in reversed(deliveries)]
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {(Status.SUCCEEDED, 2)}


@pytest.mark.parametrize(("status", "body"), [(404, "no such hook"), (301, "")])
def test_other_4xx_and_redirects_fail_without_a_retry(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer, status: int, body: str
) -> None:
    httpserver.expect_oneshot_request(HOOK_PATH).respond_with_data(body, status=status)
    delivery = emit()

    webhook_delivery_attempt(delivery_id=delivery.pk)
    make_due(delivery)

    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.attempts, stored.last_error) == (
        Status.FAILED,
        1,
        f"HTTP {status}: {body}".strip(),
    )
    assert webhook_deliveries_sweep() == 0
    assert len(httpserver.log) == 1
    assert WebhookEndpoint.objects.get(pk=receiver.endpoint.pk).consecutive_failures == 0


def test_a_delivery_is_dead_after_the_last_retry_with_the_last_error(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer, webhook_settings: Settings
) -> None:
    webhook_settings.WEBHOOK_CIRCUIT_FAILURE_THRESHOLD = 100
    for body in ["down 1", "down 2", "down 3", "down 4"]:
        httpserver.expect_ordered_request(HOOK_PATH).respond_with_data(body, status=503)
    delivery = emit()

    for _ in range(5):  # the fifth run finds nothing left to do
        webhook_delivery_attempt(delivery_id=delivery.pk)
        make_due(delivery)

    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.attempts, stored.last_error) == (
        Status.DEAD,
        4,
        "HTTP 503: down 4",
    )
    assert _codes(delivery) == [503, 503, 503, 503]
    assert len(httpserver.log) == 4


def test_running_a_task_again_changes_nothing(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("ok")
    delivered = emit()
    webhook_delivery_attempt(delivery_id=delivered.pk)
    later = emit()
    WebhookDelivery.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    webhook_delivery_attempt(delivery_id=delivered.pk)
    webhook_delivery_attempt(delivery_id=later.pk)
    webhook_delivery_attempt(delivery_id=123456789)

    assert len(httpserver.log) == 1
    assert WebhookDelivery.objects.get(pk=delivered.pk).attempts == 1
    assert WebhookDelivery.objects.get(pk=later.pk).attempts == 0


def test_the_circuit_opens_after_repeated_failures_and_deliveries_wait_for_it(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("broken", status=500)
    failing = [emit() for _ in range(3)]
    for delivery in failing:
        webhook_delivery_attempt(delivery_id=delivery.pk)
    opened = WebhookEndpoint.objects.get(pk=receiver.endpoint.pk)
    waiting = emit()

    webhook_delivery_attempt(delivery_id=waiting.pk)

    held = WebhookDelivery.objects.get(pk=waiting.pk)
    assert opened.consecutive_failures == 3
    assert opened.circuit_open_until is not None
    assert 119 < _seconds_until(opened.circuit_open_until) <= 120
    assert (held.status, held.attempts, held.next_attempt_at) == (
        Status.PENDING,
        0,
        opened.circuit_open_until,
    )
    assert len(httpserver.log) == 3


def test_after_cooling_one_probe_closes_the_circuit_when_it_succeeds(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("ok")
    past = timezone.now() - timedelta(seconds=1)
    WebhookEndpoint.objects.filter(pk=receiver.endpoint.pk).update(
        consecutive_failures=3, circuit_open_until=past
    )
    probe, other = emit(), emit()

    webhook_delivery_attempt(delivery_id=probe.pk)
    webhook_delivery_attempt(delivery_id=other.pk)

    endpoint = WebhookEndpoint.objects.get(pk=receiver.endpoint.pk)
    assert (endpoint.consecutive_failures, endpoint.circuit_open_until) == (0, None)
    assert WebhookDelivery.objects.get(pk=probe.pk).status == Status.SUCCEEDED
    assert WebhookDelivery.objects.get(pk=other.pk).status == Status.SUCCEEDED


def test_a_failed_probe_keeps_the_others_waiting(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("still broken", status=502)
    WebhookEndpoint.objects.filter(pk=receiver.endpoint.pk).update(
        consecutive_failures=3, circuit_open_until=timezone.now() - timedelta(seconds=1)
    )
    probe, other = emit(), emit()

    webhook_delivery_attempt(delivery_id=probe.pk)
    webhook_delivery_attempt(delivery_id=other.pk)

    endpoint = WebhookEndpoint.objects.get(pk=receiver.endpoint.pk)
    assert endpoint.consecutive_failures == 4
    assert 119 < _seconds_until(endpoint.circuit_open_until) <= 120
    assert len(httpserver.log) == 1
    held = WebhookDelivery.objects.get(pk=other.pk)
    assert (held.attempts, held.next_attempt_at) == (0, endpoint.circuit_open_until)


def test_a_leads_own_url_is_signed_with_the_default_endpoints_secret(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/lead-hook").respond_with_data("ok")
    httpserver.expect_request(HOOK_PATH).respond_with_data("ok")
    first = emit(lead_webhook_url=httpserver.url_for("/lead-hook"))
    deliveries = list(WebhookDelivery.objects.filter(event_id=first.event_id).order_by("pk"))

    for delivery in deliveries:
        webhook_delivery_attempt(delivery_id=delivery.pk)

    lead_request = next(r for r, _ in httpserver.log if r.path == "/lead-hook")
    assert [(d.endpoint_id, d.target_url) for d in deliveries] == [
        (receiver.endpoint.pk, ""),
        (None, httpserver.url_for("/lead-hook")),
    ]
    assert documented_verify()(receiver.secret, lead_request.headers, lead_request.get_data())
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.SUCCEEDED}


def test_without_a_default_endpoint_a_lead_delivery_fails_visibly(
    emit: Emit, httpserver: HTTPServer
) -> None:
    delivery = emit(lead_webhook_url=httpserver.url_for("/lead-hook"))

    webhook_delivery_attempt(delivery_id=delivery.pk)

    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.last_error) == (
        Status.FAILED,
        "no default webhook endpoint: its secret signs lead deliveries",
    )
    assert httpserver.log == []


def test_an_inactive_endpoint_gets_nothing_new_and_its_queue_fails(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    queued = emit()
    webhook_endpoint_update(endpoint=receiver.endpoint, is_active=False)

    webhook_delivery_attempt(delivery_id=queued.pk)
    after = webhook_event_emit(
        merchant_id=receiver.endpoint.merchant_id,
        event_type=EventType.CALL_STARTED,
        data=EXAMPLE_DATA[EventType.CALL_STARTED],
    )

    stored = WebhookDelivery.objects.get(pk=queued.pk)
    assert (stored.status, stored.last_error) == (Status.FAILED, "the endpoint is inactive")
    assert not WebhookDelivery.objects.filter(event_id=after).exists()
    assert httpserver.log == []


def test_a_lease_that_lapsed_is_handed_out_again_by_the_sweeper(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("ok")
    delivery = emit()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.DELIVERING,
        attempts=1,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )

    assert webhook_deliveries_sweep() == 1

    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    lost = WebhookAttempt.objects.get(delivery=delivery, number=1)
    assert (stored.status, stored.attempts) == (Status.SUCCEEDED, 2)
    assert (lost.status_code, lost.error) == (None, "no result: the worker was lost mid-delivery")
    assert _codes(delivery) == [None, 200]


def test_the_sweeper_leaves_claims_in_their_lease_and_future_retries_alone(
    receiver: Receiver, emit: Emit
) -> None:
    claimed, later = emit(), emit()
    WebhookDelivery.objects.filter(pk=claimed.pk).update(
        status=Status.DELIVERING, lease_expires_at=timezone.now() + timedelta(seconds=30)
    )
    WebhookDelivery.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30)
    )

    assert webhook_deliveries_sweep() == 0


def test_a_replay_is_a_new_delivery_of_the_same_event(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("ok")
    original = emit()
    webhook_delivery_attempt(delivery_id=original.pk)

    [replay] = webhook_delivery_replay(deliveries=[original])
    webhook_delivery_attempt(delivery_id=replay.pk)

    ids = [request.headers["Breeze-Event-Id"] for request, _ in httpserver.log]
    stored = WebhookDelivery.objects.get(pk=replay.pk)
    assert ids == [original.event_id, original.event_id]
    assert (stored.replay_of_id, stored.status, stored.payload) == (
        original.pk,
        Status.SUCCEEDED,
        original.payload,
    )


def test_a_long_answer_is_kept_truncated_and_the_next_delivery_still_works(
    receiver: Receiver, emit: Emit, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request(HOOK_PATH).respond_with_data("x" * 5000)
    httpserver.expect_ordered_request(HOOK_PATH).respond_with_data("short")
    first, second = emit(), emit()

    webhook_delivery_attempt(delivery_id=first.pk)
    webhook_delivery_attempt(delivery_id=second.pk)

    bodies = list(
        WebhookAttempt.objects.order_by("delivery_id").values_list("response_body", flat=True)
    )
    assert bodies == ["x" * 2000, "short"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.SUCCEEDED}
