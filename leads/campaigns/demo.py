"""The demo campaign of `make run`: five simulator leads, six calls a minute, one at a time.

It dials through the real path (tick → dispatcher → simulator → voice worker) and obeys the
demo template's calling windows. So that a fresh machine sees it dial at any hour, its
customers are placed in a time zone whose window is open now, chosen with the same window
code the dispatcher uses; if none is (a Sunday, for a Monday-to-Saturday window), the
campaign waits for the next opening like any other.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from config.models import Merchant
from leads.campaigns.services import LeadFilter, campaign_create, campaign_start
from leads.dispatch.windows import next_opening
from leads.models import Campaign, Lead
from leads.services import lead_create
from templates_app.models import Template
from templates_app.selectors import template_version_published

if TYPE_CHECKING:
    from config.selectors import AnyUser

NAME = "Demo campaign"
TEMPLATE = "order-confirmation"
CUSTOMERS = [
    ("Asha", "A1042", "1,499 rupees"),
    ("Ravi", "A1043", "899 rupees"),
    ("Meera", "A1044", "2,150 rupees"),
    ("Kabir", "A1045", "349 rupees"),
    ("Leela", "A1046", "1,050 rupees"),
]
# Spread around the globe, so that some zone is inside a daytime window at any UTC hour.
ZONES = [
    "Asia/Kolkata",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "Europe/Moscow",
]


def demo_zone(*, template: Template, now: dt.datetime) -> str:
    """The first zone in which the template's calling windows are open at `now`."""
    version = template_version_published(template=template)
    windows = (
        (version.definition if version else {}).get("execution", {}).get("calling_windows", [])
    )
    for name in ZONES:
        if next_opening(windows=windows, zone=ZoneInfo(name), at=now) == now:
            return name
    return ZONES[0]


def demo_campaign_ensure(*, merchant: Merchant, user: AnyUser) -> tuple[Campaign, bool]:
    """The merchant's unfinished demo campaign, or a new one started now; (campaign, created)."""
    unfinished = Campaign.objects.filter(
        merchant=merchant,
        name=NAME,
        status__in=[Campaign.Status.DRAFT, Campaign.Status.RUNNING, Campaign.Status.PAUSED],
    ).first()
    if unfinished is not None:
        return unfinished, False
    template = Template.objects.get(merchant=merchant, slug=TEMPLATE)
    zone = demo_zone(template=template, now=timezone.now())
    # Numbers of their own each run, so the per-number hourly cap never holds a demo back.
    first = Lead.objects.filter(campaign__merchant=merchant, campaign__name=NAME).count()
    with transaction.atomic():
        created_at = timezone.now()
        for offset, (customer, order, total) in enumerate(CUSTOMERS):
            lead_create(
                user=user,
                data={
                    "template": TEMPLATE,
                    "merchant": merchant.slug,
                    "phone": f"+91980{first + offset:07d}",
                    "payload": {"customer_name": customer, "order_id": order, "order_total": total},
                    "time_zone": zone,
                },
            )
        campaign = campaign_create(
            merchant_id=merchant.pk,
            template_id=template.pk,
            name=NAME,
            created_by="demo campaign",
            lead_filter=LeadFilter(statuses=(Lead.Status.SCHEDULED,), created_after=created_at),
            calls_per_minute=6,
            # The simulator holds a worker slot for a whole call; `make run` has two.
            max_concurrency=1,
        )
        campaign = campaign_start(campaign_id=campaign.pk, actor="demo campaign")
    return campaign, True
