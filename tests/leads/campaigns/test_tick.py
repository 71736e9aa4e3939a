"""The campaign tick: rate, concurrency, calling windows, auto-pause and completion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest
import redis
from django.db import connection
from django.utils import timezone

from calls.models import Call
from calls.services import call_end
from calls.webhooks.events import event_validation_errors
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from leads.campaigns.bucket import bucket_fill, bucket_key
from leads.campaigns.selectors import campaign_progress
from leads.campaigns.services import (
    LeadFilter,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_start,
)
from leads.campaigns.tick import campaign_tick, campaigns_tick_running
from leads.dispatch.services import leads_dispatch_batch
from leads.models import Campaign, Lead, LeadTransition
from templates_app.models import Template
from tests.conftest import free_port
from tests.leads.dispatch.conftest import ALWAYS, Dials

Status = Campaign.Status
LeadStatus = Lead.Status
Disposition = Call.Disposition
MakeCampaign = Callable[..., Campaign]
Start = Callable[[Campaign], Campaign]


def scheduled(campaign: Campaign) -> int:
    return Lead.objects.filter(campaign=campaign, status=LeadStatus.SCHEDULED).count()


def test_the_rate_caps_releases_per_minute_and_spreads_them(
    make_campaign: MakeCampaign, start: Start
) -> None:
    # 6 a minute with two-second ticks: a bucket of one token, refilled every 10 s.
    campaign = start(make_campaign(leads=20, calls_per_minute=6, max_concurrency=100))
    assert scheduled(campaign) == 1  # the kick after start: the full bucket's one token
    t0 = timezone.now()

    released_at = [
        second
        for second in range(1, 61)
        for _ in campaign_tick(
            campaign_id=campaign.pk, now=t0 + dt.timedelta(seconds=second)
        ).released
    ]

    assert released_at == [10, 20, 30, 40, 50, 60]
    assert scheduled(campaign) == 7


def test_a_flushed_bucket_comes_back_empty_never_as_a_burst(
    make_campaign: MakeCampaign, start: Start, buckets: redis.Redis
) -> None:
    campaign = start(make_campaign(leads=10, calls_per_minute=60, max_concurrency=100))
    assert scheduled(campaign) == 2  # 60/min with 2 s ticks: two tokens
    t0 = timezone.now()
    buckets.flushdb()

    assert campaign_tick(campaign_id=campaign.pk, now=t0).released == []
    assert (
        len(campaign_tick(campaign_id=campaign.pk, now=t0 + dt.timedelta(seconds=1)).released) == 1
    )
    # Thirty seconds idle refill only up to the bucket's two tokens.
    later = campaign_tick(campaign_id=campaign.pk, now=t0 + dt.timedelta(seconds=31)).released
    assert len(later) == 2
    assert buckets.exists(bucket_key(campaign.pk)) == 1


def test_the_concurrency_cap_counts_released_and_ringing_leads(
    make_campaign: MakeCampaign, start: Start, dials: Dials
) -> None:
    campaign = start(make_campaign(leads=6, calls_per_minute=6000, max_concurrency=3))
    assert scheduled(campaign) == 3
    assert campaign_tick(campaign_id=campaign.pk).released == []
    first, _, _ = leads_dispatch_batch().dialled
    assert campaign_tick(campaign_id=campaign.pk).released == []

    call_end(call_id=first, disposition=Disposition.ANSWERED, end_reason="bot_ended")

    assert len(campaign_tick(campaign_id=campaign.pk).released) == 1
    progress = campaign_progress(campaign_id=campaign.pk)
    assert (progress["in_flight"], progress["remaining"], progress["dialled"]) == (2, 3, 3)
    assert progress["by_status"][LeadStatus.SCHEDULED] == 1
    assert progress["by_status"][LeadStatus.COMPLETED] == 1


def test_leads_outside_their_window_wait_queued_for_it_without_taking_a_token(
    make_template: Callable[..., Template],
    make_lead: Callable[..., Lead],
    start: Start,
    buckets: redis.Redis,
) -> None:
    closed_now = (timezone.now() + dt.timedelta(hours=3)).strftime("%H:00")
    hours = {"start": closed_now, "end": "24:00" if closed_now >= "12:00" else "13:00"}
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    template = make_template(
        "evenings", execution={**ALWAYS, "calling_windows": [{"days": days, **hours}]}
    )
    lead = make_lead(template=template)
    campaign = start(
        campaign_create(
            merchant_id=template.merchant_id,
            template_id=template.pk,
            name="Evenings",
            created_by="user:acme-operator",
            lead_filter=LeadFilter(),
        )
    )

    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUEUED
    assert lead.next_attempt_at is not None
    assert lead.next_attempt_at > timezone.now()
    assert lead.next_attempt_at.astimezone(dt.UTC).strftime("%H:%M") == hours["start"]
    assert campaign.status == Status.RUNNING
    assert cast("bytes", buckets.hget(bucket_key(campaign.pk), "tokens")) == b"1.000000"


def test_the_failure_rate_over_the_last_attempts_pauses_with_its_reason_and_event(
    make_campaign: MakeCampaign, start: Start, dials: Dials, dispatch_template: Template
) -> None:
    webhook_endpoint_create(
        merchant_id=dispatch_template.merchant_id, url="https://hooks.example.com/b"
    )
    campaign = start(
        make_campaign(
            leads=6,
            calls_per_minute=6000,
            max_concurrency=4,
            failure_window=4,
            failure_threshold=0.5,
        )
    )
    calls = leads_dispatch_batch().dialled
    for call_id, disposition in zip(
        calls, [Disposition.ANSWERED, Disposition.FAILED, Disposition.NO_ANSWER], strict=False
    ):
        call_end(call_id=call_id, disposition=disposition, end_reason=disposition)
    # Three finished of a window of four: too few to judge; the tick releases as usual.
    assert campaign_tick(campaign_id=campaign.pk).paused is False

    call_end(call_id=calls[3], disposition=Disposition.FAILED, end_reason="provider_error")
    report = campaign_tick(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    reason = "failure rate 2/4 over the last 4 finished attempts reached the threshold of 50%"
    assert (report.paused, report.released) == (True, [])
    assert (campaign.status, campaign.pause_reason) == (Status.PAUSED, reason)
    assert Lead.objects.filter(campaign=campaign, status=LeadStatus.SCHEDULED).count() == 0
    (delivery,) = WebhookDelivery.objects.filter(event_type="campaign.paused")
    assert event_validation_errors(delivery.payload) == []
    assert delivery.payload["data"]["reason"] == reason
    assert delivery.payload["data"]["campaign_id"] == campaign.pk


def test_a_resumed_campaign_judges_only_attempts_after_the_resume(
    make_campaign: MakeCampaign, start: Start, dials: Dials
) -> None:
    campaign = start(
        make_campaign(leads=4, calls_per_minute=6000, max_concurrency=2, failure_window=2)
    )
    for call_id in leads_dispatch_batch().dialled:
        call_end(call_id=call_id, disposition=Disposition.FAILED, end_reason="provider_error")
    assert campaign_tick(campaign_id=campaign.pk).paused is True

    campaign_resume(campaign_id=campaign.pk, actor="user:acme-operator")

    # The two failures before the resume no longer count.
    report = campaign_tick(campaign_id=campaign.pk)
    assert report.paused is False
    assert len(report.released) == 2
    campaign_pause(campaign_id=campaign.pk, actor="user:acme-operator")


def test_a_campaign_with_nothing_left_completes_and_ticks_skip_it(
    make_campaign: MakeCampaign, start: Start, dials: Dials
) -> None:
    campaign = start(make_campaign(leads=2, calls_per_minute=6000))
    for call_id in leads_dispatch_batch().dialled:
        call_end(call_id=call_id, disposition=Disposition.ANSWERED, end_reason="bot_ended")

    assert campaign_tick(campaign_id=campaign.pk).completed is True

    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED
    assert campaign.completed_at is not None
    assert campaigns_tick_running() == []
    progress = campaign_progress(campaign_id=campaign.pk)
    assert (progress["leads"], progress["dialled"], progress["remaining"]) == (2, 2, 0)


def test_with_redis_down_nothing_is_released_and_nothing_lost(
    make_campaign: MakeCampaign,
) -> None:
    campaign = make_campaign(leads=2, calls_per_minute=6000)
    # Started without its after-commit fill and kick: the bucket does not exist yet.
    campaign_start(campaign_id=campaign.pk, actor="user:acme-operator")
    down = redis.Redis(port=free_port(), socket_connect_timeout=0.2)
    t0 = timezone.now()

    assert campaign_tick(campaign_id=campaign.pk, now=t0, client=down).released == []
    assert Lead.objects.filter(campaign=campaign, status=LeadStatus.QUEUED).count() == 2

    # Redis back, bucket gone: it starts empty, then refills at the campaign's rate.
    assert campaign_tick(campaign_id=campaign.pk, now=t0).released == []
    later = campaign_tick(campaign_id=campaign.pk, now=t0 + dt.timedelta(seconds=1))
    assert len(later.released) == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_ticks_release_each_lead_once_and_never_past_the_cap(
    make_campaign: MakeCampaign, buckets: redis.Redis
) -> None:
    campaign = make_campaign(leads=30, calls_per_minute=6000, max_concurrency=4)
    # Running with a full bucket but without start's own kick: every release below comes
    # from the parallel ticks (beat's and kicks, as a busy worker pool would run them).
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Status.RUNNING, started_at=now, resumed_at=now
    )
    bucket_fill(client=buckets, campaign_id=campaign.pk, calls_per_minute=6000, now=now.timestamp())

    def ticker(_: int) -> list[int]:
        try:
            return [
                lead_id
                for _ in range(5)
                for lead_id in campaign_tick(campaign_id=campaign.pk).released
            ]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        released = [lead_id for part in pool.map(ticker, range(6)) for lead_id in part]

    assert len(released) == len(set(released)) == 4
    assert scheduled(campaign) == 4
    assert (
        LeadTransition.objects.filter(
            to_status=LeadStatus.SCHEDULED, lead__campaign=campaign
        ).count()
        == 4
    )
