from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import LazySettings
from django.db import connection
from django.utils import timezone

from calls.models import Call
from leads.dispatch.services import leads_claim_due, leads_dispatch_batch
from leads.models import Lead, LeadTransition
from leads.services import lead_dispatch_now
from telephony.services import call_place
from tests.leads.dispatch.conftest import Dials

Status = Lead.Status
MakeLead = Callable[..., Lead]


def history(lead: Lead) -> list[tuple[str, str, str, str]]:
    return list(
        LeadTransition.objects.filter(lead=lead).values_list(
            "from_status", "to_status", "actor", "reason"
        )
    )


def test_a_due_lead_becomes_dialing_with_its_call_written_and_placed_after_commit(
    make_lead: MakeLead, dials: Dials, django_capture_on_commit_callbacks: Any
) -> None:
    lead = make_lead(phone="+919812345678")

    with django_capture_on_commit_callbacks() as callbacks:
        report = leads_dispatch_batch()
        call = Call.objects.get(lead=lead)
        assert dials.call_ids == []  # nothing is dialled before the transaction commits

    lead.refresh_from_db()
    assert (report.claimed, report.dialled, report.rescheduled, report.failed) == (
        1,
        [call.pk],
        0,
        0,
    )
    assert (lead.status, lead.attempts, lead.next_attempt_at) == (Status.DIALING, 1, None)
    assert (call.status, call.provider, call.customer_phone, call.execution_mode) == (
        Call.Status.QUEUED,
        "simulator",
        "+919812345678",
        "TELEPHONY",
    )
    assert call.payload == lead.payload
    # Written as a row, not through the model: every other column as the model would fill it.
    assert (call.merchant_id, call.template_version_id) == (
        lead.merchant_id,
        lead.template_version_id,
    )
    assert (call.provider_call_id, call.disposition, call.outcome, call.worker_id) == ("",) * 4
    assert (call.outcome_fields, call.node_path, call.extraction) == ({}, [], {})
    assert (call.started_at, call.answered_at, call.ended_at) == (None, None, None)
    assert call.created_at == call.updated_at
    assert call.created_at is not None
    assert len(call.media_token_nonce) == 32
    assert history(lead) == [("scheduled", "dialing", "dispatcher", "attempt 1")]
    for callback in callbacks:
        callback()
    call.refresh_from_db()
    assert dials.call_ids == [call.pk]
    assert call.status == Call.Status.DIALING


def test_leads_not_due_or_not_scheduled_are_left_alone(make_lead: MakeLead, dials: Dials) -> None:
    later = make_lead(next_attempt_at=timezone.now() + dt.timedelta(minutes=5))
    queued = make_lead(status=Status.QUEUED)
    cancelled = make_lead(status=Status.CANCELLED)

    report = leads_dispatch_batch()

    assert report.claimed == 0
    for lead in (later, queued, cancelled):
        status = lead.status
        lead.refresh_from_db()
        assert lead.status == status
    assert not Call.objects.exists()


def test_claims_the_oldest_due_first_up_to_the_batch_size(make_lead: MakeLead) -> None:
    now = timezone.now()
    leads = [make_lead(next_attempt_at=now - dt.timedelta(seconds=s)) for s in (5, 30, 10)]

    with connection.cursor():
        claimed = leads_claim_due(now=now, limit=2)

    assert [lead.pk for lead in claimed] == [leads[1].pk, leads[2].pk]


def test_the_claim_uses_the_partial_due_index(make_lead: MakeLead) -> None:
    make_lead()
    query = (
        Lead.objects.select_for_update(skip_locked=True)
        .filter(status=Status.SCHEDULED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")[:500]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()

    assert "lead_due_idx" in plan
    assert "LockRows" in plan


def test_a_call_the_pinned_version_refuses_fails_the_lead_with_the_reason(
    make_lead: MakeLead, dials: Dials
) -> None:
    lead = make_lead(payload={"customer_name": "Asha"})

    report = leads_dispatch_batch()

    lead.refresh_from_db()
    assert (report.claimed, report.failed, report.dialled) == (1, 1, [])
    assert (lead.status, lead.last_disposition, lead.attempts) == (Status.FAILED, "failed", 0)
    reason = history(lead)[0][3]
    assert reason.startswith("call refused: $.order_id")
    assert not Call.objects.exists()


def test_placing_a_call_twice_dials_once(make_lead: MakeLead, dials: Dials) -> None:
    make_lead()
    call_id = leads_dispatch_batch().dialled[0]

    assert call_place(call_id=call_id) is True
    assert call_place(call_id=call_id) is False
    assert dials.call_ids == [call_id]


def test_dispatch_now_kicks_the_dispatcher_which_dials_at_once(
    make_lead: MakeLead,
    dials: Dials,
    django_capture_on_commit_callbacks: Any,
    settings: LazySettings,
) -> None:
    settings.BREEZE_DISPATCH_KICK = True
    lead = make_lead(next_attempt_at=timezone.now() + dt.timedelta(hours=3))

    with django_capture_on_commit_callbacks(execute=True):
        lead_dispatch_now(lead_id=lead.pk, actor="user:ops")

    lead.refresh_from_db()
    call = Call.objects.get(lead=lead)
    assert lead.status == Status.DIALING
    assert dials.call_ids == [call.pk]


@pytest.mark.django_db(transaction=True)
def test_parallel_dispatchers_never_claim_the_same_lead(
    make_lead: MakeLead, dials: Dials, settings: LazySettings
) -> None:
    settings.BREEZE_MERCHANT_CONCURRENCY = 1000
    leads = [make_lead() for _ in range(240)]

    def dispatcher(_: int) -> list[int]:
        dialled: list[int] = []
        try:
            while True:
                report = leads_dispatch_batch(limit=7)
                if report.claimed == 0:
                    return dialled
                dialled += report.dialled
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        per_dispatcher = list(pool.map(dispatcher, range(4)))

    all_dialled = [call_id for dialled in per_dispatcher for call_id in dialled]
    assert sum(1 for dialled in per_dispatcher if dialled) >= 2  # they really ran side by side
    assert len(all_dialled) == len(set(all_dialled)) == 240
    assert sorted(dials.call_ids) == sorted(all_dialled)
    calls_per_lead = {lead.pk: 0 for lead in leads}
    for lead_id in Call.objects.values_list("lead_id", flat=True):
        calls_per_lead[lead_id] += 1
    assert set(calls_per_lead.values()) == {1}
    claims = LeadTransition.objects.filter(to_status=Status.DIALING)
    assert claims.count() == 240
    assert set(Lead.objects.values_list("status", "attempts")) == {(Status.DIALING, 1)}


def test_without_tracing_a_call_keeps_the_push_s_trace_context(make_lead: MakeLead) -> None:
    # As the no-op dispatch span would: the push's context passes to the call as it is, so
    # a placement or worker that does trace still joins the push's trace; a malformed one
    # is dropped.
    traced = make_lead(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    malformed = make_lead(traceparent="00-not-a-trace-01")

    leads_dispatch_batch()

    assert dict(Call.objects.values_list("lead_id", "traceparent")) == {
        traced.pk: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        malformed.pk: "",
    }
