from __future__ import annotations

import pytest

from calls.exceptions import CallNotAllowedError
from calls.models import Call, Turn
from calls.services import (
    call_advance,
    call_create,
    call_end,
    call_mark_in_progress,
    call_record_node,
    call_record_turn,
    call_update_outcome,
)
from templates_app.exceptions import TemplateValidationError
from templates_app.models import TemplateVersion
from templates_app.services import template_version_edit
from tests.calls.conftest import ORDER_PAYLOAD

Status = Call.Status


def test_create_pins_the_published_version_and_snapshots_the_payload(
    call: Call, published: TemplateVersion
) -> None:
    stored = Call.objects.get(pk=call.pk)

    assert (stored.template_version, stored.status, stored.payload) == (
        published,
        Status.QUEUED,
        ORDER_PAYLOAD,
    )
    assert stored.merchant_id == published.template.merchant_id
    assert len(stored.media_token_nonce) >= 30


def test_create_refuses_what_the_template_cannot_run(published: TemplateVersion) -> None:
    draft = template_version_edit(version=published)
    published.definition["execution"]["execution_modes"] = ["TELEPHONY"]
    published.save()

    with pytest.raises(CallNotAllowedError) as unpublished:
        call_create(
            version=draft, execution_mode="TELEPHONY", provider="simulator", payload=ORDER_PAYLOAD
        )
    with pytest.raises(CallNotAllowedError) as mode:
        call_create(
            version=published, execution_mode="DAILY", provider="simulator", payload=ORDER_PAYLOAD
        )
    with pytest.raises(TemplateValidationError) as payload:
        call_create(
            version=published,
            execution_mode="TELEPHONY",
            provider="simulator",
            payload={"order_id": "A1"},
        )

    assert (unpublished.value.field, mode.value.field) == ("template", "execution_mode")
    assert [issue.path for issue in payload.value.issues] == ["$.customer_name", "$.order_total"]
    assert not Call.objects.exists()


def test_a_call_never_moves_backwards(call: Call) -> None:
    assert call_mark_in_progress(call_id=call.pk, worker_id="w1") is True
    assert call_advance(call_id=call.pk, status=Status.RINGING) is False
    assert call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended") is True
    assert call_end(call_id=call.pk, disposition="failed", end_reason="worker_crashed") is False
    assert call_mark_in_progress(call_id=call.pk, worker_id="w2") is False

    stored = Call.objects.get(pk=call.pk)
    assert (stored.status, stored.disposition, stored.end_reason, stored.worker_id) == (
        Status.ENDED,
        "answered",
        "bot_ended",
        "w1",
    )
    assert stored.started_at == stored.answered_at
    assert stored.ended_at is not None


def test_turns_are_idempotent_by_index(call: Call) -> None:
    first = call_record_turn(
        call_id=call.pk, index=0, speaker="bot", text="Hello", latency={"total_ms": 420}
    )
    again = call_record_turn(call_id=call.pk, index=0, speaker="bot", text="Hello, retried")

    assert first.pk == again.pk
    assert list(Turn.objects.values_list("text", "latency_ms")) == [("Hello", 420)]


def test_node_path_and_outcome_accumulate(call: Call) -> None:
    call_record_node(call_id=call.pk, node="confirm_order")
    call_record_node(call_id=call.pk, node="reschedule")
    call_update_outcome(
        call_id=call.pk, outcome="rescheduled", fields={"delivery_date": "2026-11-27"}
    )
    call_update_outcome(call_id=call.pk, outcome="rescheduled", fields={"slot": "evening"})

    stored = Call.objects.get(pk=call.pk)
    assert stored.node_path == ["confirm_order", "reschedule"]
    assert (stored.outcome, stored.outcome_fields) == (
        "rescheduled",
        {"delivery_date": "2026-11-27", "slot": "evening"},
    )
