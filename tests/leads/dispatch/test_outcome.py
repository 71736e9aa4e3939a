from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest
from django.utils import timezone

from calls.models import Call
from calls.services import call_end, call_mark_in_progress, call_update_outcome
from calls.webhooks.events import event_validation_errors
from calls.webhooks.models import WebhookDelivery
from leads.dispatch.retry import Decision, Verdict, retry_decide
from leads.dispatch.services import leads_dispatch_batch
from leads.models import Lead, LeadTransition
from telephony.services import call_place
from tests.leads.dispatch.conftest import ALWAYS, Dials

Status = Lead.Status
Disposition = Call.Disposition
MakeLead = Callable[..., Lead]
HOOK = "https://hooks.example.com/breeze"
NOW = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)


def dialled(make_lead: MakeLead, **fields: object) -> tuple[Lead, int]:
    lead = make_lead(webhook_url=HOOK, idempotency_key="order-A1042", **fields)
    (call_id,) = leads_dispatch_batch().dialled
    return lead, call_id


def lead_events(lead: Lead) -> list[dict[str, object]]:
    return [
        delivery.payload
        for delivery in WebhookDelivery.objects.filter(
            target_url=HOOK, event_type__startswith="lead."
        )
    ]


def test_an_answered_call_completes_the_lead_with_its_outcome_and_event(
    make_lead: MakeLead, dials: Dials
) -> None:
    lead, call_id = dialled(make_lead)
    call_update_outcome(call_id=call_id, outcome="confirmed", fields={"slot": "evening"})

    assert call_end(call_id=call_id, disposition=Disposition.ANSWERED, end_reason="bot_ended")

    lead.refresh_from_db()
    assert (lead.status, lead.last_disposition, lead.outcome, lead.outcome_fields) == (
        Status.COMPLETED,
        "answered",
        "confirmed",
        {"slot": "evening"},
    )
    assert lead.next_attempt_at is None
    (event,) = lead_events(lead)
    assert event_validation_errors(event) == []
    assert event["type"] == "lead.completed"
    assert event["data"] == {
        "lead_id": lead.pk,
        "status": "completed",
        "attempts": 1,
        "last_disposition": "answered",
        "last_call_id": call_id,
        "outcome": "confirmed",
        "outcome_fields": {"slot": "evening"},
        "idempotency_key": "order-A1042",
        "reason": "call answered",
    }
    last = LeadTransition.objects.filter(lead=lead).last()
    assert last is not None
    assert (last.from_status, last.to_status, last.actor, last.reason) == (
        "dialing",
        "completed",
        "retry policy",
        "call answered",
    )


def test_an_answered_call_puts_the_lead_in_call_until_it_ends(
    make_lead: MakeLead, dials: Dials
) -> None:
    lead, call_id = dialled(make_lead)

    assert call_mark_in_progress(call_id=call_id, worker_id="w1")
    lead.refresh_from_db()
    assert lead.status == Status.IN_CALL
    call_end(call_id=call_id, disposition=Disposition.ANSWERED, end_reason="bot_ended")

    assert list(
        LeadTransition.objects.filter(lead=lead).values_list(
            "from_status", "to_status", "actor", "reason"
        )
    ) == [
        ("scheduled", "dialing", "dispatcher", "attempt 1"),
        ("dialing", "in_call", "call", f"call {call_id} answered"),
        ("in_call", "completed", "retry policy", "call answered"),
    ]


def test_no_answer_reschedules_by_the_disposition_delay_and_is_dialled_again(
    make_lead: MakeLead, dials: Dials
) -> None:
    lead, call_id = dialled(make_lead)
    before = timezone.now()

    call_end(call_id=call_id, disposition=Disposition.NO_ANSWER, end_reason="no_answer")

    after = timezone.now()
    lead.refresh_from_db()
    assert (lead.status, lead.attempts, lead.last_disposition) == (Status.SCHEDULED, 1, "no_answer")
    assert lead.next_attempt_at is not None
    assert before + dt.timedelta(seconds=600) <= lead.next_attempt_at
    assert lead.next_attempt_at <= after + dt.timedelta(seconds=600)
    assert lead_events(lead) == []
    reasons = list(LeadTransition.objects.filter(lead=lead).values_list("reason", flat=True))
    assert reasons == ["attempt 1", "no_answer, retry 2 of 3"]

    Lead.objects.filter(pk=lead.pk).update(next_attempt_at=timezone.now())
    second = leads_dispatch_batch().dialled
    lead.refresh_from_db()
    assert (lead.status, lead.attempts, len(second)) == (Status.DIALING, 2, 1)
    assert Call.objects.filter(lead=lead).count() == 2


def test_the_last_allowed_attempt_exhausts_the_lead_with_an_event(
    make_lead: MakeLead, dials: Dials
) -> None:
    lead, call_id = dialled(make_lead, attempts=2)

    call_end(call_id=call_id, disposition=Disposition.BUSY, end_reason="busy")

    lead.refresh_from_db()
    assert (lead.status, lead.attempts, lead.next_attempt_at) == (Status.EXHAUSTED, 3, None)
    (event,) = lead_events(lead)
    assert event_validation_errors(event) == []
    assert (event["type"], event["data"]["reason"]) == (  # type: ignore[index]
        "lead.exhausted",
        "busy on attempt 3 of 3",
    )


def test_a_permanent_provider_error_fails_the_lead_without_retry(
    make_lead: MakeLead, dials: Dials
) -> None:
    lead, call_id = dialled(make_lead)

    call_end(call_id=call_id, disposition=Disposition.FAILED, end_reason="invalid_number")

    lead.refresh_from_db()
    assert (lead.status, lead.attempts, lead.next_attempt_at) == (Status.FAILED, 1, None)
    (event,) = lead_events(lead)
    assert (event["type"], event["data"]["reason"]) == (  # type: ignore[index]
        "lead.failed",
        "failed: invalid_number",
    )


def test_a_provider_with_no_adapter_fails_the_lead_when_placed(
    make_lead: MakeLead, dials: Dials
) -> None:
    lead, call_id = dialled(make_lead)
    # A provider whose adapter was removed after the call was written.
    Call.objects.filter(pk=call_id).update(provider="retired")

    assert call_place(call_id=call_id) is True

    lead.refresh_from_db()
    call = Call.objects.get(pk=call_id)
    assert (call.status, call.disposition, call.end_reason) == (
        "ended",
        "failed",
        "unknown_provider",
    )
    assert (lead.status, lead.last_disposition) == (Status.FAILED, "failed")
    assert dials.call_ids == []


def test_a_second_end_report_changes_nothing(make_lead: MakeLead, dials: Dials) -> None:
    lead, call_id = dialled(make_lead)
    call_end(call_id=call_id, disposition=Disposition.ANSWERED, end_reason="bot_ended")

    assert not call_end(call_id=call_id, disposition=Disposition.NO_ANSWER, end_reason="late")

    lead.refresh_from_db()
    assert lead.status == Status.COMPLETED
    assert len(lead_events(lead)) == 1


def test_a_call_without_a_lead_ends_as_before(make_lead: MakeLead, dials: Dials) -> None:
    lead, call_id = dialled(make_lead)
    Call.objects.filter(pk=call_id).update(lead=None)

    assert call_end(call_id=call_id, disposition=Disposition.ANSWERED, end_reason="bot_ended")
    lead.refresh_from_db()
    assert lead.status == Status.DIALING


@pytest.mark.parametrize(
    ("disposition", "end_reason", "attempts", "expected"),
    [
        ("answered", "", 1, Decision(Verdict.COMPLETE, "call answered")),
        ("transferred", "", 1, Decision(Verdict.COMPLETE, "call transferred")),
        ("canceled", "", 1, Decision(Verdict.CANCEL, "call canceled")),
        ("blocked", "", 1, Decision(Verdict.FAIL, "blocked")),
        ("failed", "invalid_number", 1, Decision(Verdict.FAIL, "failed: invalid_number")),
        ("voicemail", "", 3, Decision(Verdict.EXHAUSTED, "voicemail on attempt 3 of 3")),
        (
            "busy",
            "",
            1,
            Decision(Verdict.RETRY, "busy, retry 2 of 3", NOW + dt.timedelta(seconds=300)),
        ),
        (
            "early_hangup",
            "",
            2,
            Decision(Verdict.RETRY, "early_hangup, retry 3 of 3", NOW + dt.timedelta(seconds=1800)),
        ),
    ],
)
def test_the_retry_policy(
    disposition: str, end_reason: str, attempts: int, expected: Decision
) -> None:
    decision = retry_decide(
        execution=ALWAYS, disposition=disposition, end_reason=end_reason, attempts=attempts, now=NOW
    )
    assert decision == expected


def test_jitter_spreads_retries_within_its_fraction() -> None:
    execution = {**ALWAYS, "retry_jitter": 0.5}
    delays = {
        retry_decide(
            execution=execution,
            disposition="no_answer",
            end_reason="",
            attempts=1,
            now=NOW,
            rng=random.Random(seed),
        ).retry_at
        for seed in range(50)
    }
    seconds = sorted((at - NOW).total_seconds() for at in delays if at is not None)
    assert len(seconds) == 50
    assert 300 <= seconds[0] < 400
    assert 800 < seconds[-1] <= 900
