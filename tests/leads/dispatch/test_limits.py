"""Dispatch limits from the admin's rows: per merchant, per caller number, per number per hour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from django.conf import LazySettings
from django.utils import timezone

from calls.services import call_end
from leads.dispatch.limiter import caller_key, limiter_in_use, merchant_key
from leads.dispatch.limits import Limits, dispatch_limits
from leads.dispatch.reconcile import limiter_reconcile
from leads.dispatch.services import leads_dispatch_batch
from leads.models import DispatchLimits, Lead, LeadTransition
from templates_app.models import Template
from tests.conftest import Tenants
from tests.leads.dispatch.conftest import ALWAYS, Dials

MakeLead = Callable[..., Lead]
NUMBER = "+15555550111"


def test_a_merchant_row_wins_then_the_platform_row_then_the_settings(
    tenants: Tenants, settings: LazySettings
) -> None:
    settings.BREEZE_MERCHANT_CONCURRENCY = 50
    settings.BREEZE_CALLS_PER_NUMBER_PER_HOUR = 3
    DispatchLimits.objects.create(merchant=None, concurrent_calls_per_caller_number=4)
    DispatchLimits.objects.create(merchant=tenants.acme, concurrent_calls=7)

    limits = dispatch_limits(merchant_ids=[tenants.acme.pk, tenants.globex.pk])

    assert limits == {
        tenants.acme.pk: Limits(7, 4, 3),
        tenants.globex.pk: Limits(50, 4, 3),
    }


def _reasons(status: str) -> list[str]:
    return list(
        LeadTransition.objects.filter(to_status=status, from_status="scheduled").values_list(
            "reason", flat=True
        )
    )


def test_the_merchant_s_concurrent_calls_from_its_row_cap_dispatch(
    make_lead: MakeLead, dials: Dials, tenants: Tenants, limiter: redis.Redis
) -> None:
    DispatchLimits.objects.create(merchant=tenants.acme, concurrent_calls=2)
    for _ in range(5):
        make_lead()

    report = leads_dispatch_batch()

    assert len(report.dialled) == 2
    assert _reasons("scheduled") == ["at concurrency cap"] * 3
    assert limiter_in_use(key=merchant_key(tenants.acme.pk), client=limiter) == set(report.dialled)


def test_a_caller_number_holds_at_most_its_cap_and_frees_the_slot_when_the_call_ends(
    make_template: Callable[..., Template],
    make_lead: MakeLead,
    dials: Dials,
    tenants: Tenants,
    limiter: redis.Redis,
    django_capture_on_commit_callbacks: Any,
) -> None:
    DispatchLimits.objects.create(merchant=None, concurrent_calls_per_caller_number=1)
    template = make_template(
        "one-line",
        execution={
            **{k: v for k, v in ALWAYS.items() if k != "telephony_provider"},
            "telephony_providers": [{"provider": "simulator", "caller_numbers": [NUMBER]}],
        },
    )
    for _ in range(3):
        make_lead(template=template, template_version=template.versions.get())

    (dialled,) = leads_dispatch_batch().dialled

    key = caller_key(tenants.acme.pk, NUMBER)
    assert limiter_in_use(key=key, client=limiter) == {dialled}
    assert _reasons("scheduled") == ["at concurrency cap"] * 2
    with django_capture_on_commit_callbacks(execute=True):
        call_end(call_id=dialled, disposition="answered", end_reason="bot_ended")
    assert limiter_in_use(key=key, client=limiter) == set()

    # The two that waited are due again: the freed number takes one of them.
    Lead.objects.filter(status="scheduled").update(next_attempt_at=timezone.now())
    (second,) = leads_dispatch_batch().dialled
    limiter.flushdb()
    # After a Redis flush the reconciler gives the running call its caller slot back.
    assert limiter_reconcile(client=limiter) == (3, 0)
    assert limiter_in_use(key=key, client=limiter) == {second}


def test_calls_per_number_per_hour_from_the_merchant_s_row(
    make_lead: MakeLead, dials: Dials, tenants: Tenants
) -> None:
    DispatchLimits.objects.create(merchant=tenants.acme, calls_per_number_per_hour=1)
    make_lead(phone="+919800000051")
    make_lead(phone="+919800000051")

    report = leads_dispatch_batch()

    assert len(report.dialled) == 1
    assert _reasons("scheduled") == ["calls to this number per hour at their cap"]
