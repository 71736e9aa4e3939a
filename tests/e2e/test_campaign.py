"""A campaign through the whole stack: tick → dispatcher → simulator → voice worker → outcome.

Celery is eager here, so each tick's kick runs the dispatcher and the placement in this
process once the tick commits; the simulated customer talks to the real Daphne and voice pool.
"""

from __future__ import annotations

import copy

import pytest
import redis
from django.conf import LazySettings

from leads.campaigns.bucket import PREFIX
from leads.campaigns.selectors import campaign_progress
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

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


def settled(lead_id: int) -> Lead | None:
    lead = Lead.objects.get(pk=lead_id)
    return lead if lead.status == Lead.Status.COMPLETED else None


def test_a_campaign_dials_its_leads_one_at_a_time_and_completes(
    stack: Stack, published: TemplateVersion, settings: LazySettings
) -> None:
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
        for index in range(2)
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
    assert Lead.objects.get(pk=leads[1].pk).status == Lead.Status.QUEUED

    assert len(campaign_tick(campaign_id=campaign.pk).released) == 1
    second = wait_for(lambda: settled(leads[1].pk), timeout=60, what="the second lead")
    assert campaign_tick(campaign_id=campaign.pk).completed is True

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert (first.outcome, second.outcome) == ("confirmed", "confirmed")
    progress = campaign_progress(campaign_id=campaign.pk)
    assert (progress["dialled"], progress["answered"], progress["remaining"]) == (2, 2, 0)
    assert progress["outcomes"] == {"confirmed": 2}
