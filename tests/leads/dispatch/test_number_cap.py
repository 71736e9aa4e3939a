from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import LazySettings
from django.utils import timezone

from calls.models import Call
from leads.dispatch.services import leads_dispatch_batch
from leads.models import Lead, LeadTransition
from tests.leads.dispatch.conftest import Dials

Status = Lead.Status
MakeLead = Callable[..., Lead]
PHONE = "+919800000077"


def test_a_number_rings_at_most_the_cap_per_hour_and_the_rest_wait_for_the_hour(
    make_lead: MakeLead, dials: Dials, settings: LazySettings
) -> None:
    settings.BREEZE_CALLS_PER_NUMBER_PER_HOUR = 2
    earlier = make_lead(phone=PHONE)
    (first_call,) = leads_dispatch_batch().dialled
    forty_minutes_ago = timezone.now() - dt.timedelta(minutes=40)
    Call.objects.filter(pk=first_call).update(created_at=forty_minutes_ago)
    same_number = [make_lead(phone=PHONE) for _ in range(3)]
    other_number = make_lead(phone="+919800000078")

    report = leads_dispatch_batch()

    assert (report.claimed, len(report.dialled), report.rescheduled) == (4, 2, 2)
    dialled_leads = set(
        Call.objects.filter(pk__in=report.dialled).values_list("lead_id", flat=True)
    )
    assert other_number.pk in dialled_leads
    waiting = Lead.objects.filter(pk__in=[lead.pk for lead in same_number], status=Status.SCHEDULED)
    assert waiting.count() == 2
    for lead in waiting:
        assert lead.next_attempt_at == forty_minutes_ago + dt.timedelta(hours=1)
        assert LeadTransition.objects.get(lead=lead).reason == (
            "calls to this number per hour at their cap"
        )
    assert earlier.pk not in {lead.pk for lead in waiting}


def test_calls_older_than_an_hour_and_other_merchants_calls_do_not_count(
    make_lead: MakeLead, dials: Dials, settings: LazySettings
) -> None:
    settings.BREEZE_CALLS_PER_NUMBER_PER_HOUR = 1
    make_lead(phone=PHONE)
    (old_call,) = leads_dispatch_batch().dialled
    Call.objects.filter(pk=old_call).update(created_at=timezone.now() - dt.timedelta(minutes=61))
    lead = make_lead(phone=PHONE)

    assert len(leads_dispatch_batch().dialled) == 1
    lead.refresh_from_db()
    assert lead.status == Status.DIALING
