"""The demo campaign `make run` creates: started, five leads, a zone whose window is open."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import LazySettings
from django.core.management import call_command
from django.utils import timezone

from config.models import Merchant
from leads.campaigns.demo import demo_zone
from leads.models import Campaign, Lead
from templates_app.models import Template
from templates_app.services import template_load_demos


@pytest.mark.parametrize(
    ("utc", "zone"),
    [
        # Monday 12:00 UTC is 17:30 in Kolkata, inside the demo's Mon-Sat 09:00-20:00.
        (dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC), "Asia/Kolkata"),
        # Monday 20:00 UTC: past closing in Kolkata and London, mid-afternoon in New York.
        (dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC), "America/New_York"),
        # Sunday 12:00 UTC is Sunday or a Monday night everywhere listed: the first zone waits.
        (dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC), "Asia/Kolkata"),
    ],
)
def test_the_demo_zone_is_one_whose_window_is_open(db: None, utc: dt.datetime, zone: str) -> None:
    merchant = Merchant.objects.create(name="Acme", slug="acme", time_zone="Asia/Kolkata")
    template_load_demos(merchant=merchant)
    template = Template.objects.get(merchant=merchant, slug="order-confirmation")

    assert demo_zone(template=template, now=utc) == zone


def test_setup_demo_starts_one_demo_campaign_and_keeps_it_on_later_runs(
    db: None, settings: LazySettings
) -> None:
    settings.BREEZE_ADMIN_PASSWORD = "demo-pass-123"
    output = io.StringIO()

    call_command("setup_demo", stdout=output)
    call_command("setup_demo", stdout=output)

    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.status, campaign.merchant.slug) == (
        "Demo campaign",
        Campaign.Status.RUNNING,
        "acme",
    )
    assert (campaign.calls_per_minute, campaign.max_concurrency) == (6, 1)
    leads = list(
        Lead.objects.filter(campaign=campaign).select_related("merchant", "template_version")
    )
    assert [lead.status for lead in leads] == [Lead.Status.QUEUED] * 5
    assert len({lead.phone for lead in leads}) == 5
    now = timezone.now()
    open_now = demo_zone(template=campaign.template, now=now)
    assert {lead.time_zone for lead in leads} == {open_now}
    assert f"Demo campaign #{campaign.pk} (running, new)" in output.getvalue()
    assert f"Demo campaign #{campaign.pk} (running):" in output.getvalue()
