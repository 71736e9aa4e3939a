from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import redis
from django.utils import timezone

from leads.dispatch.limiter import Slot, limiter_acquire, merchant_key, template_key
from leads.metrics.collector import dispatch_metrics
from leads.metrics.selectors import DueLeads, leads_due, limiter_slots_in_use
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_due_leads_and_the_dispatchers_lag(make_lead: Callable[..., Lead]) -> None:
    now = timezone.now()
    make_lead(next_attempt_at=now - dt.timedelta(seconds=30))
    make_lead(next_attempt_at=now - dt.timedelta(seconds=5))
    make_lead(next_attempt_at=now + dt.timedelta(seconds=60))
    make_lead(status=Lead.Status.QUEUED, next_attempt_at=now - dt.timedelta(hours=1))

    assert leads_due(now=now) == DueLeads(count=2, lag_seconds=30.0)
    assert leads_due(now=now - dt.timedelta(seconds=31)) == DueLeads(count=0, lag_seconds=0.0)
    gauges = {family.name: family.samples for family in dispatch_metrics()}
    assert gauges["breeze_leads_due"][0].value == 2
    assert 30 <= gauges["breeze_dispatch_lag_seconds"][0].value < 40


def test_limiter_slots_in_use_per_merchant_and_template(limiter: redis.Redis) -> None:
    acme, cart = Slot(merchant_key(3), 5), Slot(template_key(9), 2)
    assert limiter_acquire(call_id=101, slots=[acme, cart], client=limiter)
    assert limiter_acquire(call_id=102, slots=[acme, cart], client=limiter)
    assert not limiter_acquire(call_id=103, slots=[acme, cart], client=limiter)
    assert limiter_acquire(call_id=104, slots=[acme], client=limiter)
    # An expired lease (its worker died) no longer counts.
    limiter.zadd(merchant_key(4), {"105": 1.0})

    assert limiter_slots_in_use(limiter) == {
        ("merchant", "3"): 3,
        ("template", "9"): 2,
        ("merchant", "4"): 0,
    }
    (slots,) = (
        family for family in dispatch_metrics() if family.name == "breeze_limiter_slots_in_use"
    )
    assert sorted((s.labels["scope"], s.labels["id"], s.value) for s in slots.samples) == [
        ("merchant", "3", 3),
        ("merchant", "4", 0),
        ("template", "9", 2),
    ]
