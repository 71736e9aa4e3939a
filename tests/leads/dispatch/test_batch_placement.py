"""Placement by batch: one message per dispatch batch, one claim for all its calls.

Every call still dials at most once: the batch's conditional UPDATE commits `dialing` for the
calls it takes before any provider is asked, so a repeated batch, or a call another placement
took first, dials nothing; a provider error on one call ends or fails over only that call.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import pytest
import redis
from django.conf import LazySettings, settings
from django.utils import timezone

from calls.models import Call
from calls.services import call_end
from leads.dispatch.reconcile import calls_reconcile_stuck
from leads.dispatch.services import leads_dispatch_batch
from leads.models import Lead
from telephony import services as telephony_services
from telephony.services import call_place, calls_place
from telephony.tasks import calls_place_task
from templates_app.models import Template
from tests.leads.dispatch.conftest import ALWAYS, Dials

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]


def _dispatched(make_lead: MakeLead, count: int, **fields: Any) -> list[int]:
    """`count` leads dispatched in one batch whose placement message is lost: their call ids."""
    leads = [make_lead(**fields) for _ in range(count)]
    report = leads_dispatch_batch()
    assert report.claimed == count
    calls = dict(Call.objects.values_list("lead_id", "pk"))
    return [calls[lead.pk] for lead in leads]


@pytest.mark.usefixtures("celery_not_eager")
def test_a_batch_is_placed_by_one_message_naming_all_its_calls(
    make_lead: MakeLead, limiter: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    limiter.delete("telephony")
    with django_capture_on_commit_callbacks(execute=True):
        call_ids = _dispatched(make_lead, 5)

    (raw,) = cast("list[bytes]", limiter.lrange("telephony", 0, -1))
    limiter.delete("telephony")
    message = json.loads(raw)
    args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert message["headers"]["task"] == "telephony.tasks.calls_place_task"
    assert (args, kwargs) == ([sorted(call_ids)], {})
    # One round of five calls within the concurrency: the limits of one call.
    assert message["headers"]["timelimit"] == [960, 900]


def test_a_redelivered_batch_dials_nothing_twice(make_lead: MakeLead, dials: Dials) -> None:
    call_ids = _dispatched(make_lead, 3)

    calls_place_task.delay(call_ids)
    calls_place_task.delay(call_ids)  # redelivered: its worker died after the claim

    assert Counter(dials.call_ids) == Counter(call_ids)
    assert calls_place(call_ids=call_ids) == []
    # Each call of the batch has a media token nonce of its own.
    assert len(set(Call.objects.values_list("media_token_nonce", flat=True))) == 3
    assert set(Call.objects.values_list("status", flat=True)) == {Call.Status.DIALING}


def test_a_batch_skips_a_call_another_placement_already_claimed(
    make_lead: MakeLead, dials: Dials
) -> None:
    first, taken, last = _dispatched(make_lead, 3)
    assert call_place(call_id=taken) is True

    assert calls_place(call_ids=[first, taken, last]) == [first, last]
    assert dials.call_ids[0] == taken
    assert Counter(dials.call_ids) == Counter([first, taken, last])


class _RefusesOne(Dials):
    """The simulator's dial, refused (its endpoint closed) for one number only."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = ""
        self.refusals = 0

    def __call__(self, call: Call) -> None:
        if call.customer_phone == self.refused:
            with self.lock:
                self.refusals += 1
            raise ConnectionRefusedError(111, "Connection refused")
        super().__call__(call)


@pytest.fixture
def refuses_one(monkeypatch: pytest.MonkeyPatch) -> _RefusesOne:
    placer = _RefusesOne()
    monkeypatch.setitem(telephony_services.PLACERS, "simulator", placer)
    return placer


# Transactional: the batch is placed when the dispatch commits (Celery runs eagerly in
# tests), its calls dialled on threads with connections of their own.
@pytest.mark.django_db(transaction=True)
def test_a_transient_error_on_one_call_ends_only_that_call_for_its_retry(
    make_lead: MakeLead, refuses_one: _RefusesOne
) -> None:
    leads = [make_lead() for _ in range(4)]
    refuses_one.refused = leads[2].phone

    report = leads_dispatch_batch()

    call_ids = dict(Call.objects.values_list("lead_id", "pk"))
    refused = call_ids[leads[2].pk]
    assert sorted(report.dialled) == sorted(call_ids.values())
    assert refuses_one.refusals == 1
    assert sorted(refuses_one.call_ids) == sorted(set(call_ids.values()) - {refused})
    assert calls_place(call_ids=report.dialled) == []
    calls = {call.pk: call for call in Call.objects.all()}
    assert (calls[refused].status, calls[refused].end_reason) == (
        Call.Status.ENDED,
        "provider_error",
    )
    assert {call.status for pk, call in calls.items() if pk != refused} == {Call.Status.DIALING}
    refused_lead = Lead.objects.get(pk=leads[2].pk)
    # Retried after the template's delay for a failed attempt, like any provider error.
    assert (refused_lead.status, refused_lead.attempts) == (Lead.Status.SCHEDULED, 1)
    assert refused_lead.next_attempt_at is not None
    assert refused_lead.next_attempt_at > timezone.now() + dt.timedelta(seconds=100)
    others = Lead.objects.exclude(pk=refused_lead.pk)
    assert set(others.values_list("status", "attempts")) == {(Lead.Status.DIALING, 1)}


@pytest.mark.django_db(transaction=True)
def test_a_transient_error_on_one_call_fails_over_that_call_alone(
    make_template: Callable[..., Template],
    make_lead: MakeLead,
    refuses_one: _RefusesOne,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    execution = {
        **{key: value for key, value in ALWAYS.items() if key != "telephony_provider"},
        "telephony_providers": [{"provider": "simulator"}, {"provider": "twilio"}],
    }
    template = make_template("failover-batch", execution=execution)
    twilio = Dials()
    monkeypatch.setitem(telephony_services.PLACERS, "twilio", twilio)
    leads = [make_lead(template=template) for _ in range(3)]
    refuses_one.refused = leads[0].phone

    leads_dispatch_batch()

    call_ids = dict(Call.objects.values_list("lead_id", "pk"))
    assert (refuses_one.refusals, twilio.call_ids) == (1, [call_ids[leads[0].pk]])
    assert sorted(refuses_one.call_ids) == sorted([call_ids[leads[1].pk], call_ids[leads[2].pk]])
    providers = dict(Call.objects.values_list("lead_id", "provider"))
    assert providers == {leads[0].pk: "twilio", leads[1].pk: "simulator", leads[2].pk: "simulator"}
    assert set(Call.objects.values_list("status", flat=True)) == {Call.Status.DIALING}


def test_a_lost_placement_message_is_sent_again_by_the_reconciler_and_dials_once(
    make_lead: MakeLead, dials: Dials, django_capture_on_commit_callbacks: Any
) -> None:
    # The dispatcher died between its commit and sending the message: nothing was sent.
    with django_capture_on_commit_callbacks(execute=False):
        call_ids = _dispatched(make_lead, 3)
    assert dials.call_ids == []
    assert set(Call.objects.values_list("status", flat=True)) == {Call.Status.QUEUED}

    later = timezone.now() + dt.timedelta(seconds=settings.BREEZE_DIAL_TIMEOUT_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True) as sent:
        report = calls_reconcile_stuck(now=later)
    assert sorted(report.re_enqueued) == sorted(call_ids)
    assert len(sent) == 1  # one message for the three calls

    # The first message was only slow, not lost: delivered now, it dials nothing more.
    calls_place_task.delay(call_ids)
    assert Counter(dials.call_ids) == Counter(call_ids)


def test_a_call_the_reconciler_ended_while_its_batch_waited_is_not_dialled(
    make_lead: MakeLead, monkeypatch: pytest.MonkeyPatch, settings: LazySettings
) -> None:
    # One thread for the batch, and every call counts as reached late (a dial timeout of 0):
    # while the first call's dial holds the thread, the stuck-call reconciler ends the second.
    settings.BREEZE_PLACEMENT_CONCURRENCY = 1
    settings.BREEZE_DIAL_TIMEOUT_SECONDS = 0
    first, ended, last = _dispatched(make_lead, 3)
    dialled: list[int] = []

    def dial_holding_the_thread(call: Call) -> None:
        dialled.append(call.pk)
        if call.pk == first:
            call_end(call_id=ended, disposition="failed", end_reason="dial_unconfirmed")

    monkeypatch.setitem(telephony_services.PLACERS, "simulator", dial_holding_the_thread)

    assert calls_place(call_ids=[first, ended, last]) == [first, ended, last]

    assert dialled == [first, last]
    statuses = dict(Call.objects.values_list("pk", "status"))
    assert statuses == {
        first: Call.Status.DIALING,
        ended: Call.Status.ENDED,
        last: Call.Status.DIALING,
    }


def test_an_unexpected_error_on_one_call_leaves_it_to_the_reconciler_and_dials_the_rest(
    make_lead: MakeLead, monkeypatch: pytest.MonkeyPatch, settings: LazySettings
) -> None:
    settings.BREEZE_PLACEMENT_CONCURRENCY = 1
    first, broken, last = _dispatched(make_lead, 3)
    dialled: list[int] = []

    def dial(call: Call) -> None:
        if call.pk == broken:
            raise RuntimeError("a bug in one provider adapter")
        dialled.append(call.pk)

    monkeypatch.setitem(telephony_services.PLACERS, "simulator", dial)

    assert calls_place(call_ids=[first, broken, last]) == [first, broken, last]

    assert dialled == [first, last]
    # Still `dialing`, as a call whose own task failed was: the reconciler ends it later.
    assert set(Call.objects.values_list("status", flat=True)) == {Call.Status.DIALING}
    later = timezone.now() + dt.timedelta(seconds=settings.BREEZE_DIAL_TIMEOUT_SECONDS + 1)
    assert sorted(calls_reconcile_stuck(now=later).ended) == sorted([first, broken, last])
