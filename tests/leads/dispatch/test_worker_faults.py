"""A real Celery dispatch worker killed with SIGKILL mid-dispatch: no lead lost, none dialled twice."""

from __future__ import annotations

import base64
import datetime as dt
import json
import signal
from collections import Counter
from pathlib import Path
from typing import cast

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from calls.models import Call
from leads.dispatch.reconcile import calls_reconcile_stuck
from leads.models import Lead, LeadTransition
from leads.tasks import dispatch_due_leads
from telephony.services import call_place
from templates_app.models import Template
from tests.leads.dispatch.conftest import Dials
from tests.leads.dispatch.workers import WORKER, beat_tick, due_leads_create, worker_env
from tests.processes import running, wait_for

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]
LEADS = 1500


def _placements(client: redis.Redis) -> Counter[int]:
    """Call ids waiting in the telephony queue (no worker consumes it in this test).

    One message per batch, naming all its calls.
    """
    counts: Counter[int] = Counter()
    for raw in cast("list[bytes]", client.lrange("telephony", 0, -1)):
        message = json.loads(raw)
        assert message["headers"]["task"] == "telephony.tasks.calls_place_task"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        counts.update(args[0])
    return counts


@pytest.mark.usefixtures("celery_not_eager")
def test_a_dispatch_worker_killed_mid_batch_loses_no_lead_and_dials_none_twice(
    dispatch_template: Template, limiter: redis.Redis, dials: Dials, tmp_path: Path
) -> None:
    due_leads_create(template=dispatch_template, count=LEADS, prefix="+91981")
    limiter.delete("telephony")
    env = worker_env()

    with running(WORKER, env=env, log=tmp_path / "first.log") as first:
        dispatch_due_leads.delay()
        wait_for(
            lambda: True if Call.objects.count() >= 100 else None,
            timeout=60,
            what="the first worker to dial some leads",
            log=tmp_path / "first.log",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    at_kill = Call.objects.count()
    assert 100 <= at_kill < LEADS, "the worker was not killed mid-dispatch"
    # The killed transaction left nothing half done: every dialing lead has its call.
    dialing = Lead.objects.filter(status=Lead.Status.DIALING)
    assert dialing.count() == at_kill == Call.objects.filter(lead__in=dialing).count()

    with running(WORKER, env=env, log=tmp_path / "second.log"):
        wait_for(
            lambda: beat_tick(limiter, calls=LEADS),
            timeout=120,
            what="the second worker to dispatch the rest",
            log=tmp_path / "second.log",
        )

    assert set(Lead.objects.values_list("status", "attempts")) == {(Lead.Status.DIALING, 1)}
    assert set(Counter(Call.objects.values_list("lead_id", flat=True)).values()) == {1}
    claims = LeadTransition.objects.filter(to_status=Lead.Status.DIALING)
    assert set(Counter(claims.values_list("lead_id", flat=True)).values()) == {1}
    assert claims.count() == LEADS
    calls = set(Call.objects.values_list("pk", flat=True))
    placements = _placements(limiter)
    # Nothing was sent twice. A kill between a batch's commit and its enqueue leaves those
    # calls `queued` with no placement sent: the stuck-call reconciler sends them.
    assert set(placements) <= calls
    assert set(placements.values()) == {1}
    assert Call.objects.exclude(status=Call.Status.QUEUED).count() == 0
    later = timezone.now() + dt.timedelta(seconds=settings.BREEZE_DIAL_TIMEOUT_SECONDS + 1)
    assert set(calls_reconcile_stuck(now=later).re_enqueued) == calls
    placements = _placements(limiter)
    assert set(placements) == calls

    # Every placement message delivered, the redelivered ones included: each call dials once.
    for call_id in placements.elements():
        call_place(call_id=call_id)
    assert Counter(dials.call_ids) == Counter(calls)
