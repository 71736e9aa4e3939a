from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from leads.campaigns.bucket import PREFIX
from leads.campaigns.services import LeadFilter, campaign_create, campaign_start
from leads.models import Campaign, Lead
from templates_app.models import Template
from templates_app.services import template_load_demos
from tests.conftest import Tenants

# The dispatch tests' fixtures: a template open all day, leads on their own numbers, the
# limiter's Redis cleared, and the simulator's dials recorded at the provider boundary.
from tests.leads.dispatch.conftest import (  # noqa: F401
    ALWAYS,
    Dials,
    dials,
    dispatch_template,
    limiter,
    make_lead,
)


@pytest.fixture(autouse=True)
def buckets(limiter: redis.Redis) -> Iterator[redis.Redis]:  # noqa: F811
    """No campaign rate bucket left over from another test."""

    def clear() -> None:
        for key in limiter.scan_iter(match=f"{PREFIX}*"):
            limiter.delete(key)

    clear()
    yield limiter
    clear()


@pytest.fixture
def make_campaign(
    dispatch_template: Template,  # noqa: F811
    make_lead: Callable[..., Lead],  # noqa: F811
) -> Callable[..., Campaign]:
    """A draft campaign over `leads` new waiting leads of the dispatch template."""

    def make(leads: int = 3, **limits: Any) -> Campaign:
        for _ in range(leads):
            make_lead()
        return campaign_create(
            merchant_id=dispatch_template.merchant_id,
            template_id=dispatch_template.pk,
            name="November COD confirmations",
            created_by="user:acme-operator",
            lead_filter=LeadFilter(),
            **limits,
        )

    return make


@pytest.fixture
def start(django_capture_on_commit_callbacks: Any) -> Callable[[Campaign], Campaign]:
    """Start a campaign as production does: after commit its bucket fills and one tick runs."""

    def do(campaign: Campaign) -> Campaign:
        with django_capture_on_commit_callbacks(execute=True):
            return campaign_start(campaign_id=campaign.pk, actor="user:acme-operator")

    return do


@pytest.fixture
def globex_campaign(tenants: Tenants) -> Campaign:
    """A draft campaign of the other merchant."""
    template_load_demos(merchant=tenants.globex)
    return campaign_create(
        merchant_id=tenants.globex.pk,
        template_id=Template.objects.get(merchant=tenants.globex, slug="order-confirmation").pk,
        name="Globex",
        created_by="user:globex",
        lead_filter=LeadFilter(),
    )
