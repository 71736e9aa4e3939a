"""Campaign lifecycle: which leads a campaign takes, and start/pause/resume/stop as services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from calls.models import Call
from calls.services import call_end
from calls.webhooks.events import event_validation_errors
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from config.models import Membership
from leads.campaigns.exceptions import CampaignStateError, CampaignValidationError
from leads.campaigns.services import (
    LeadFilter,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_start,
    campaign_stop,
)
from leads.campaigns.tick import campaign_tick
from leads.dispatch.services import leads_dispatch_batch
from leads.imports import lead_import_run, lead_import_start
from leads.models import Campaign, Lead, LeadTransition
from templates_app.models import Template
from tests.leads.dispatch.conftest import ALWAYS, Dials

Status = Campaign.Status
Role = Membership.Role
LeadStatus = Lead.Status
MakeLead = Callable[..., Lead]
MakeCampaign = Callable[..., Campaign]
Start = Callable[[Campaign], Campaign]
ACTOR = "user:acme-operator"


def statuses(campaign: Campaign) -> list[str]:
    return list(
        Lead.objects.filter(campaign=campaign).order_by("pk").values_list("status", flat=True)
    )


def test_a_filter_takes_the_templates_waiting_leads_and_queues_them(
    make_lead: MakeLead, dispatch_template: Template, make_template: Callable[..., Template]
) -> None:
    other_template = make_template("other", execution=dict(ALWAYS))
    old = make_lead(created_at=timezone.now())
    waiting = make_lead()
    later = make_lead(
        status=LeadStatus.SCHEDULED, next_attempt_at=timezone.now() + dt.timedelta(hours=2)
    )
    in_call = make_lead(status=LeadStatus.IN_CALL, next_attempt_at=None)
    done = make_lead(status=LeadStatus.COMPLETED, next_attempt_at=None)
    elsewhere = make_lead(template=other_template)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))

    campaign = campaign_create(
        merchant_id=dispatch_template.merchant_id,
        template_id=dispatch_template.pk,
        name="Recent",
        created_by=ACTOR,
        lead_filter=LeadFilter(created_after=timezone.now() - dt.timedelta(days=1)),
    )

    assert campaign.status == Status.DRAFT
    taken = Lead.objects.filter(campaign=campaign).order_by("pk")
    assert [lead.pk for lead in taken] == [waiting.pk, later.pk]
    assert {lead.status for lead in taken} == {LeadStatus.QUEUED}
    # A lead's own later time is kept: the campaign releases it no earlier.
    assert taken[1].next_attempt_at == later.next_attempt_at
    for lead in (old, in_call, done, elsewhere):
        lead.refresh_from_db()
        assert lead.campaign_id is None
    history = LeadTransition.objects.filter(lead=waiting).last()
    assert history is not None
    assert (history.from_status, history.to_status, history.actor, history.reason) == (
        "scheduled",
        "queued",
        ACTOR,
        f"added to campaign {campaign.pk}",
    )
    # Queued leads are the campaign's: the dispatcher claims only the others.
    leads_dispatch_batch()
    assert set(Call.objects.values_list("lead_id", flat=True)) == {old.pk, elsewhere.pk}


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"calls_per_minute": 0}, "calls_per_minute"),
        ({"max_concurrency": 1001}, "max_concurrency"),
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"failure_window": 0}, "failure_window"),
    ],
)
def test_limits_out_of_range_are_refused_naming_the_field(
    dispatch_template: Template, limits: dict[str, Any], field: str
) -> None:
    with pytest.raises(CampaignValidationError) as refused:
        campaign_create(
            merchant_id=dispatch_template.merchant_id,
            template_id=dispatch_template.pk,
            name="x",
            created_by=ACTOR,
            lead_filter=LeadFilter(),
            **limits,
        )
    assert refused.value.field == field
    assert not Campaign.objects.exists()


def test_start_pause_resume_stop_move_only_from_their_statuses(
    make_campaign: MakeCampaign, django_capture_on_commit_callbacks: Any
) -> None:
    campaign = make_campaign(leads=2)
    with pytest.raises(CampaignStateError, match=r"A draft campaign cannot be paused\."):
        campaign_pause(campaign_id=campaign.pk, actor=ACTOR)

    started = campaign_start(campaign_id=campaign.pk, actor=ACTOR)
    assert started.status == Status.RUNNING
    assert started.started_at is not None
    assert started.resumed_at == started.started_at
    with pytest.raises(CampaignStateError, match=r"A running campaign cannot be started\."):
        campaign_start(campaign_id=campaign.pk, actor=ACTOR)

    paused = campaign_pause(campaign_id=campaign.pk, actor=ACTOR)
    assert (paused.status, paused.pause_reason) == (Status.PAUSED, f"paused by {ACTOR}")
    resumed = campaign_resume(campaign_id=campaign.pk, actor=ACTOR)
    assert (resumed.status, resumed.pause_reason) == (Status.RUNNING, "")
    assert resumed.resumed_at is not None
    assert started.started_at is not None
    assert resumed.resumed_at > started.started_at

    stopped = campaign_stop(campaign_id=campaign.pk, actor=ACTOR)
    assert stopped.status == Status.STOPPED
    assert stopped.stopped_at is not None
    assert statuses(campaign) == [LeadStatus.CANCELLED, LeadStatus.CANCELLED]
    with pytest.raises(CampaignStateError, match=r"A stopped campaign cannot be resumed\."):
        campaign_resume(campaign_id=campaign.pk, actor=ACTOR)


def test_a_manual_pause_emits_campaign_paused_in_its_transaction(
    make_campaign: MakeCampaign, dispatch_template: Template
) -> None:
    webhook_endpoint_create(
        merchant_id=dispatch_template.merchant_id, url="https://hooks.example.com/b"
    )
    campaign = make_campaign(leads=1)
    campaign_start(campaign_id=campaign.pk, actor=ACTOR)

    paused = campaign_pause(campaign_id=campaign.pk, actor=ACTOR, reason="customer complaint")

    (delivery,) = WebhookDelivery.objects.filter(event_type="campaign.paused")
    assert event_validation_errors(delivery.payload) == []
    assert paused.paused_at is not None
    assert delivery.payload["data"] == {
        "campaign_id": campaign.pk,
        "name": "November COD confirmations",
        "reason": "customer complaint",
        "paused_at": paused.paused_at.isoformat(),
    }


def test_a_campaign_paused_mid_flight_dials_nothing_new_and_its_calls_finish(
    make_campaign: MakeCampaign, start: Start, dials: Dials
) -> None:
    """Issue 6 fault: pause with calls in flight and one lead released but not yet claimed."""
    campaign = start(make_campaign(leads=5, max_concurrency=3, calls_per_minute=6000))
    assert statuses(campaign).count(LeadStatus.SCHEDULED) == 3
    first, second, third = leads_dispatch_batch().dialled
    # One call ends; the next tick releases one lead the dispatcher has not claimed yet.
    call_end(call_id=third, disposition=Call.Disposition.ANSWERED, end_reason="bot_ended")
    (released,) = campaign_tick(campaign_id=campaign.pk).released

    campaign_pause(campaign_id=campaign.pk, actor=ACTOR)

    # The released lead went back to waiting; nothing is claimed or released while paused.
    assert Lead.objects.get(pk=released).status == LeadStatus.QUEUED
    assert leads_dispatch_batch().claimed == 0
    assert campaign_tick(campaign_id=campaign.pk).released == []
    # The calls in flight finish: one answered, one not (its retry waits for the campaign).
    call_end(call_id=first, disposition=Call.Disposition.ANSWERED, end_reason="bot_ended")
    call_end(call_id=second, disposition=Call.Disposition.NO_ANSWER, end_reason="no_answer")
    leads = {call.pk: call.lead for call in Call.objects.select_related("lead")}
    done = leads[first]
    assert done is not None
    assert done.status == LeadStatus.COMPLETED
    retry = leads[second]
    assert retry is not None
    assert retry.status == LeadStatus.QUEUED
    assert retry.next_attempt_at is not None
    assert retry.next_attempt_at > timezone.now()
    assert leads_dispatch_batch().claimed == 0
    assert Call.objects.count() == 3


def test_a_stopped_campaigns_call_ends_its_lead_cancelled_instead_of_retried(
    make_campaign: MakeCampaign, start: Start, dials: Dials
) -> None:
    campaign = start(make_campaign(leads=2, max_concurrency=1))
    (call_id,) = leads_dispatch_batch().dialled

    campaign_stop(campaign_id=campaign.pk, actor=ACTOR)
    call_end(call_id=call_id, disposition=Call.Disposition.BUSY, end_reason="busy")

    assert statuses(campaign) == [LeadStatus.CANCELLED, LeadStatus.CANCELLED]
    last = LeadTransition.objects.filter(lead__calls=call_id).last()
    assert last is not None
    assert (last.from_status, last.to_status, last.reason) == (
        "dialing",
        "cancelled",
        "campaign stopped",
    )


def test_an_imports_rows_join_its_campaign_even_those_imported_after_it_was_made(
    dispatch_template: Template,
    member_of_acme: Callable[[str], User],
    start: Start,
) -> None:
    """The import is still pending when the campaign is made from it: its rows wait for it."""
    rows = "phone,customer_name,order_id,order_total\n" + "".join(
        f"+9198000000{index:02d},Customer {index},A{index},{index} rupees\n" for index in range(3)
    )
    lead_import = lead_import_start(
        user=member_of_acme(Role.OPERATOR),
        file=SimpleUploadedFile("leads.csv", rows.encode(), content_type="text/csv"),
        template="dispatch-test",
        merchant=None,
        execution_mode="TELEPHONY",
    )
    campaign = campaign_create(
        merchant_id=dispatch_template.merchant_id,
        template_id=dispatch_template.pk,
        name="From CSV",
        created_by=ACTOR,
        lead_import=lead_import,
    )
    campaign = start(campaign)
    # Nothing imported yet, but the import may still add rows: the campaign keeps running.
    assert campaign_tick(campaign_id=campaign.pk).completed is False

    lead_import_run(import_id=lead_import.pk)

    assert statuses(campaign) == [LeadStatus.QUEUED] * 3
    assert leads_dispatch_batch().claimed == 0
    assert len(campaign_tick(campaign_id=campaign.pk).released) == 1
