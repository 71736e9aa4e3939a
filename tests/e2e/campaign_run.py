"""A two-lead demo campaign run to completion through the whole stack (shared by e2e tests)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import redis
from django.conf import LazySettings

from leads.campaigns.bucket import PREFIX
from leads.campaigns.services import LeadFilter, campaign_create, campaign_start
from leads.campaigns.tick import campaign_tick
from leads.dispatch.limiter import limiter_redis
from leads.models import Campaign, Lead
from templates_app.demo import demo_definition
from templates_app.models import TemplateVersion
from tests.demo_payloads import DEMO_PAYLOADS
from tests.e2e.conftest import Stack, published_template
from tests.leads.dispatch.conftest import ALWAYS
from tests.processes import wait_for

LEADS = 2


@dataclass(frozen=True)
class CampaignRun:
    campaign: Campaign
    leads: list[Lead]
    # Lead 1 still queued once lead 0 settled, and what the ticks after it reported.
    second_queued_after_first: bool
    released_by_second_tick: int
    completed_by_last_tick: bool


def settled(lead_id: int) -> Lead | None:
    lead = Lead.objects.get(pk=lead_id)
    return lead if lead.status == Lead.Status.COMPLETED else None


def campaign_run(stack: Stack, published: TemplateVersion, settings: LazySettings) -> CampaignRun:
    """Start a campaign of two order-confirmation leads, one call at a time, and finish it.

    Celery is eager, so each tick's kick runs the dispatcher and the placement in this process
    once the tick commits; the simulated customer talks to the real Daphne and voice pool.
    """
    settings.PUBLIC_BASE_URL = stack.base_url
    settings.BREEZE_DISPATCH_KICK = True
    settings.BREEZE_SIMULATOR_PERSONA = "cod-confirm"
    client: redis.Redis = limiter_redis()
    for key in client.scan_iter(match=f"{PREFIX}*"):
        client.delete(key)
    definition = copy.deepcopy(demo_definition("order-confirmation"))
    definition["execution"] = dict(ALWAYS)
    version = published_template(published.template.merchant, "campaign-e2e", definition)
    leads = [
        Lead.objects.create(
            merchant_id=version.template.merchant_id,
            template=version.template,
            template_version=version,
            phone=f"+9198100000{index}",
            payload=dict(DEMO_PAYLOADS["order-confirmation"]),
            execution_mode=Lead.ExecutionMode.TELEPHONY_TEST,
            status=Lead.Status.QUEUED,
        )
        for index in range(LEADS)
    ]
    campaign = campaign_create(
        merchant_id=version.template.merchant_id,
        template_id=version.template_id,
        name="E2E",
        created_by="test",
        lead_filter=LeadFilter(),
        calls_per_minute=600,
        max_concurrency=1,
    )

    # Start commits, fills the bucket and kicks a tick: the first call runs to its end here.
    campaign_start(campaign_id=campaign.pk, actor="test")
    first = wait_for(lambda: settled(leads[0].pk), timeout=60, what="the first lead")
    second_queued = Lead.objects.get(pk=leads[1].pk).status == Lead.Status.QUEUED

    released = len(campaign_tick(campaign_id=campaign.pk).released)
    second = wait_for(lambda: settled(leads[1].pk), timeout=60, what="the second lead")
    completed = campaign_tick(campaign_id=campaign.pk).completed

    campaign.refresh_from_db()
    return CampaignRun(
        campaign=campaign,
        leads=[first, second],
        second_queued_after_first=second_queued,
        released_by_second_tick=released,
        completed_by_last_tick=completed,
    )
