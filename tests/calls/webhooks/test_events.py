from __future__ import annotations

import json
import re

import pytest
from django.db import transaction
from pytest_django import DjangoCaptureOnCommitCallbacks

from calls.live.services import call_live_status_publish
from calls.models import Call
from calls.services import (
    call_end,
    call_mark_in_progress,
    call_record_llm_fallback,
    call_record_turn,
    call_update_outcome,
)
from calls.webhooks.events import EventType, event_schema, event_validation_errors
from calls.webhooks.examples import example_event
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from tests.calls.webhooks.verify import DOCS
from tests.conftest import Tenants


def _documented(kind: str, event_type: EventType) -> object:
    pattern = rf"<!-- {kind} {re.escape(event_type.value)} -->\n```json\n(.*?)```"
    match = re.search(pattern, DOCS.read_text(), re.DOTALL)
    assert match, f"docs/webhooks.md has no {kind} for {event_type}"
    return json.loads(match.group(1))


@pytest.mark.parametrize("event_type", list(EventType))
def test_the_docs_publish_the_schema_and_a_valid_example_of_every_event(
    event_type: EventType,
) -> None:
    assert _documented("schema", event_type) == event_schema(event_type)
    assert _documented("example", event_type) == example_event(event_type)
    assert event_validation_errors(example_event(event_type)) == []


def test_the_schemas_reject_what_a_receiver_could_not_rely_on() -> None:
    event = example_event(EventType.CALL_COMPLETED)
    del event["data"]["transcript"]
    event["data"]["latency"]["answers"] = "one"
    event["api_version"] = "v0"

    assert event_validation_errors(event) == [
        "$.api_version: 'v1' was expected",
        "$.data: 'transcript' is a required property",
        "$.data.latency.answers: 'one' is not of type 'integer'",
    ]
    assert event_validation_errors({"type": "call.exploded"}) == [
        "unknown event type 'call.exploded'"
    ]


@pytest.mark.django_db
def test_call_services_emit_events_that_match_their_schemas(
    tenants: Tenants,
    call: Call,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    endpoint, _ = webhook_endpoint_create(
        merchant_id=tenants.acme.pk, url="https://merchant.example/hooks"
    )
    with django_capture_on_commit_callbacks() as enqueued:
        call_mark_in_progress(call_id=call.pk, worker_id="w1")
        call_record_turn(call_id=call.pk, index=0, speaker="bot", text="Hello", node="greeting")
        call_record_turn(
            call_id=call.pk,
            index=1,
            speaker="customer",
            text="Yes",
            node="greeting",
            started_offset_ms=900,
        )
        call_record_turn(
            call_id=call.pk, index=2, speaker="bot", text="Done", latency={"total_ms": 640}
        )
        call_update_outcome(call_id=call.pk, outcome="confirmed", fields={"order_id": "A1"})
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")
        call_end(call_id=call.pk, disposition="failed", end_reason="worker_crashed")

    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    completed = deliveries[-1].payload["data"]
    assert [d.event_type for d in deliveries] == [
        "call.started",
        "outcome.updated",
        "call.completed",
    ]
    assert {d.endpoint_id for d in deliveries} == {endpoint.pk}
    # One delivery task per event, and the live view told once that the call ended.
    live = [c for c in enqueued if getattr(c, "func", None) is call_live_status_publish]
    assert (len(enqueued) - len(live), len(live)) == (3, 1)
    assert [event_validation_errors(d.payload) for d in deliveries] == [[], [], []]
    assert len({d.event_id for d in deliveries}) == 3
    assert [turn["text"] for turn in completed["transcript"]] == ["Hello", "Yes", "Done"]
    assert (completed["disposition"], completed["outcome"], completed["outcome_fields"]) == (
        "answered",
        "confirmed",
        {"order_id": "A1"},
    )
    assert completed["latency"] == {"answers": 1, "median_ms": 640, "p95_ms": 640, "max_ms": 640}
    assert completed["template"]["slug"] == "order-confirmation"
    assert completed["llm_fallback"] is None


@pytest.mark.django_db
def test_call_completed_says_when_and_why_the_rules_engine_took_over(
    tenants: Tenants, call: Call
) -> None:
    webhook_endpoint_create(merchant_id=tenants.acme.pk, url="https://merchant.example/hooks")
    call_mark_in_progress(call_id=call.pk, worker_id="w1")
    call_record_llm_fallback(call_id=call.pk, reason="server_error: 503 from the LLM")
    call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")

    delivery = WebhookDelivery.objects.get(event_type="call.completed")
    switched = Call.objects.get(pk=call.pk).llm_fallback_at
    assert switched is not None
    assert delivery.payload["data"]["llm_fallback"] == {
        "at": switched.isoformat(),
        "reason": "server_error: 503 from the LLM",
    }
    assert event_validation_errors(delivery.payload) == []


@pytest.mark.django_db
def test_an_event_is_written_only_if_the_change_commits(tenants: Tenants, call: Call) -> None:
    webhook_endpoint_create(merchant_id=tenants.acme.pk, url="https://merchant.example/hooks")

    def change_then_fail() -> None:
        with transaction.atomic():
            call_mark_in_progress(call_id=call.pk, worker_id="w1")
            raise RuntimeError("the caller's transaction fails after the change")

    with pytest.raises(RuntimeError):
        change_then_fail()

    assert Call.objects.get(pk=call.pk).status == Call.Status.QUEUED
    assert not WebhookDelivery.objects.exists()
