from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from django.conf import LazySettings
from django.utils import timezone

from calls.models import Call
from calls.services import call_advance, call_end
from leads.dispatch.limiter import (
    Slot,
    limiter_acquire,
    limiter_in_use,
    merchant_key,
    template_key,
)
from leads.dispatch.reconcile import calls_reconcile_stuck, limiter_reconcile
from leads.dispatch.services import leads_dispatch_batch
from leads.models import Lead, LeadTransition
from templates_app.models import Template
from tests.leads.dispatch.conftest import ALWAYS, Dials

Status = Lead.Status
MakeLead = Callable[..., Lead]


def test_200_simultaneous_attempts_against_a_cap_of_10_get_10_slots(
    limiter: redis.Redis,
) -> None:
    slots = [Slot("breeze:limiter:merchant:900", 10), Slot("breeze:limiter:template:901", 50)]

    def attempt(call_id: int) -> bool:
        return limiter_acquire(call_id=call_id, slots=slots, client=limiter)

    with ThreadPoolExecutor(max_workers=40) as pool:
        granted = list(pool.map(attempt, range(1, 201)))

    winners = {call_id for call_id, ok in zip(range(1, 201), granted, strict=True) if ok}
    assert len(winners) == 10
    assert limiter_in_use(key=slots[0].key, client=limiter) == winners
    # All or nothing: the template set holds exactly the merchant's winners.
    assert limiter_in_use(key=slots[1].key, client=limiter) == winners


def test_asking_again_for_a_held_slot_is_granted_without_taking_another(
    limiter: redis.Redis,
) -> None:
    slots = [Slot("breeze:limiter:merchant:7", 1)]
    assert limiter_acquire(call_id=1, slots=slots, client=limiter)
    assert limiter_acquire(call_id=1, slots=slots, client=limiter)
    assert not limiter_acquire(call_id=2, slots=slots, client=limiter)


def test_an_expired_lease_frees_its_slot(limiter: redis.Redis, settings: LazySettings) -> None:
    slots = [Slot("breeze:limiter:merchant:8", 1)]
    settings.BREEZE_LIMITER_LEASE_SECONDS = 1
    assert limiter_acquire(call_id=1, slots=slots, client=limiter)
    assert not limiter_acquire(call_id=2, slots=slots, client=limiter)
    time.sleep(1.05)

    assert limiter_acquire(call_id=2, slots=slots, client=limiter)
    assert limiter_in_use(key=slots[0].key, client=limiter) == {2}


def test_the_dispatcher_dials_up_to_the_template_cap_and_reschedules_the_rest(
    make_template: Callable[..., Template],
    make_lead: MakeLead,
    dials: Dials,
    limiter: redis.Redis,
    django_capture_on_commit_callbacks: Any,
) -> None:
    template = make_template("capped", execution={**ALWAYS, "concurrency_cap": 2})
    leads = [make_lead(template=template) for _ in range(5)]
    before = timezone.now()

    report = leads_dispatch_batch()

    assert (report.claimed, len(report.dialled), report.rescheduled) == (5, 2, 3)
    assert Call.objects.count() == 2  # the refused dials left no Call behind
    waiting = Lead.objects.filter(status=Status.SCHEDULED)
    assert waiting.count() == 3
    for lead in waiting:
        assert lead.attempts == 0
        assert lead.next_attempt_at is not None
        assert lead.next_attempt_at >= before + dt.timedelta(seconds=5)
        assert list(
            LeadTransition.objects.filter(lead=lead).values_list("to_status", "reason")
        ) == [("scheduled", "at concurrency cap")]
    assert limiter_in_use(key=template_key(template.pk), client=limiter) == set(report.dialled)

    with django_capture_on_commit_callbacks(execute=True):
        call_end(call_id=report.dialled[0], disposition="answered", end_reason="bot_ended")

    assert limiter_in_use(key=template_key(template.pk), client=limiter) == {report.dialled[1]}
    assert limiter_in_use(key=merchant_key(template.merchant_id), client=limiter) == {
        report.dialled[1]
    }
    assert len(leads) == 5


def test_a_flushed_limiter_is_rebuilt_and_leaked_slots_removed(
    make_lead: MakeLead, dials: Dials, limiter: redis.Redis, settings: LazySettings
) -> None:
    lead = make_lead()
    (live,) = leads_dispatch_batch().dialled
    merchant = merchant_key(lead.merchant_id)
    limiter.flushdb()
    # A slot leaked by a dispatch that never committed (no such call), granted long ago.
    old_expiry = time.time() + settings.BREEZE_LIMITER_LEASE_SECONDS - 300
    limiter.zadd(merchant, {"999999": old_expiry})
    # And one granted a moment ago, whose transaction may still commit: left alone.
    limiter.zadd(merchant, {"999998": time.time() + settings.BREEZE_LIMITER_LEASE_SECONDS})

    added, removed = limiter_reconcile(client=limiter)

    assert (added, removed) == (2, 1)
    assert limiter_in_use(key=merchant, client=limiter) == {live, 999998}
    assert limiter_in_use(key=template_key(lead.template_id), client=limiter) == {live}
    assert limiter_reconcile(client=limiter) == (0, 0)


def test_stuck_calls_are_re_enqueued_if_never_dialled_and_ended_if_unconfirmed(
    make_lead: MakeLead, dials: Dials, django_capture_on_commit_callbacks: Any
) -> None:
    never_placed_lead, unconfirmed_lead, fresh_lead = make_lead(), make_lead(), make_lead()
    leads_dispatch_batch()
    calls = dict(Call.objects.values_list("lead_id", "pk"))
    call_advance(call_id=calls[unconfirmed_lead.pk], status=Call.Status.DIALING)
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    Call.objects.filter(lead__in=[never_placed_lead, unconfirmed_lead]).update(updated_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        report = calls_reconcile_stuck()

    assert report.re_enqueued == [calls[never_placed_lead.pk]]
    assert report.ended == [calls[unconfirmed_lead.pk]]
    assert dials.call_ids == [calls[never_placed_lead.pk]]
    unconfirmed = Call.objects.get(pk=calls[unconfirmed_lead.pk])
    assert (unconfirmed.status, unconfirmed.disposition, unconfirmed.end_reason) == (
        "ended",
        "failed",
        "dial_unconfirmed",
    )
    unconfirmed_lead.refresh_from_db()
    fresh_lead.refresh_from_db()
    assert (unconfirmed_lead.status, unconfirmed_lead.last_disposition) == (
        Status.SCHEDULED,
        "failed",
    )
    assert fresh_lead.status == Status.DIALING
    assert Call.objects.get(pk=calls[fresh_lead.pk]).status == Call.Status.QUEUED
    # Run again: nothing left to repair.
    assert calls_reconcile_stuck().ended == []


def test_after_a_redis_flush_the_reconciler_restores_the_cap_and_no_lead_is_lost(
    make_template: Callable[..., Template],
    make_lead: MakeLead,
    dials: Dials,
    limiter: redis.Redis,
) -> None:
    template = make_template("flushed", execution={**ALWAYS, "concurrency_cap": 3})
    for _ in range(3):
        make_lead(template=template)
    in_flight = leads_dispatch_batch().dialled
    assert len(in_flight) == 3
    limiter.flushdb()  # slots, and any queued placement messages, are gone
    later = [make_lead(template=template) for _ in range(2)]

    limiter_reconcile(client=limiter)  # beat's next reconcile
    report = leads_dispatch_batch()

    assert (report.claimed, report.dialled, report.rescheduled) == (2, [], 2)
    assert limiter_in_use(key=template_key(template.pk), client=limiter) == set(in_flight)
    # The in-flight calls' lost placements are re-enqueued once they are stale.
    Call.objects.filter(pk__in=in_flight).update(
        updated_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert sorted(calls_reconcile_stuck().re_enqueued) == sorted(in_flight)
    for lead in later:
        lead.refresh_from_db()
        assert (lead.status, lead.attempts) == (Status.SCHEDULED, 0)
