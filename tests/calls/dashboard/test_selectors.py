"""Dashboard numbers, exactly, on the fixture day (see conftest.py for the data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from calls.dashboard.selectors import (
    AnswerRate,
    DashboardScope,
    HourCount,
    LatencyPercentiles,
    OutcomeCount,
    WebhookSuccess,
    call_dashboard,
)
from config.models import Membership
from leads.funnels import CampaignFunnel, campaign_funnels
from tests.calls.dashboard.conftest import DashboardData, at
from tests.conftest import Tenants

Role = Membership.Role
START, END = at(0, 0), at(0, 0) + dt.timedelta(days=1)


@pytest.fixture
def acme_viewer(member_of_acme: Callable[[str], User]) -> User:
    return member_of_acme(Role.VIEWER)


def test_one_merchants_day(dashboard_data: DashboardData, acme_viewer: User) -> None:
    data = dashboard_data
    numbers = call_dashboard(DashboardScope(user=acme_viewer, start=START, end=END))

    assert len(numbers.calls_per_hour) == 24
    busy = [hour for hour in numbers.calls_per_hour if hour.calls]
    assert busy == [
        HourCount("2026-11-20T10:00:00+00:00", 2, 2),
        HourCount("2026-11-20T11:00:00+00:00", 2, 0),
        HourCount("2026-11-20T12:00:00+00:00", 1, 1),
        HourCount("2026-11-20T13:00:00+00:00", 1, 1),
    ]
    # Ended and dialled: c1, c2, c3, c6 (c4 was blocked, c5 is still talking).
    assert numbers.answer_rate == AnswerRate(dialled=4, answered=3, rate=0.75)
    cart, order = data.cart, data.order
    assert numbers.outcomes == [
        OutcomeCount(cart.pk, cart.name, "Acme Retail", "callback", 1),
        OutcomeCount(order.pk, order.name, "Acme Retail", "(none)", 2),
        OutcomeCount(order.pk, order.name, "Acme Retail", "confirmed", 2),
    ]
    # twilio waits 100 200 300 400 500 1000: p50 between 300 and 400, p95 = 500 + 0.75 * 500.
    assert numbers.latency == [
        LatencyPercentiles(cart.pk, cart.name, "Acme Retail", "simulator", 2, 850.0, 895.0),
        LatencyPercentiles(order.pk, order.name, "Acme Retail", "twilio", 6, 350.0, 875.0),
    ]
    assert numbers.webhooks == WebhookSuccess(
        by_status={"pending": 1, "delivering": 0, "succeeded": 3, "failed": 0, "dead": 1},
        succeeded=3,
        finished=4,
        rate=0.75,
    )


def test_platform_wide_and_one_merchant(
    dashboard_data: DashboardData, member_of_acme: Callable[[str], User], tenants: Tenants
) -> None:
    admin = member_of_acme(Role.PLATFORM_ADMIN)

    everyone = call_dashboard(DashboardScope(user=admin, start=START, end=END))
    globex = call_dashboard(
        DashboardScope(user=admin, start=START, end=END, merchant_id=tenants.globex.pk)
    )

    assert everyone.answer_rate == AnswerRate(dialled=5, answered=4, rate=0.8)
    assert everyone.webhooks.finished == 5
    assert [hour.calls for hour in everyone.calls_per_hour if hour.calls] == [3, 2, 1, 1]
    assert globex.answer_rate == AnswerRate(dialled=1, answered=1, rate=1.0)
    order = dashboard_data.globex_order
    assert globex.latency == [
        LatencyPercentiles(order.pk, order.name, "Globex Stores", "twilio", 1, 5000.0, 5000.0)
    ]
    assert globex.webhooks.rate == 0.0


def test_another_merchants_rows_stay_out(
    dashboard_data: DashboardData, make_member: Callable[..., User], tenants: Tenants
) -> None:
    globex_viewer = make_member(Role.VIEWER, tenants.globex)

    numbers = call_dashboard(
        DashboardScope(user=globex_viewer, start=START, end=END, merchant_id=tenants.acme.pk)
    )

    assert sum(hour.calls for hour in numbers.calls_per_hour) == 0
    assert numbers.answer_rate == AnswerRate(dialled=0, answered=0, rate=None)
    assert (numbers.outcomes, numbers.latency) == ([], [])
    assert (numbers.webhooks.finished, numbers.webhooks.rate) == (0, None)


def test_campaign_funnels(dashboard_data: DashboardData, acme_viewer: User) -> None:
    funnels = campaign_funnels(user=acme_viewer, start=START, end=END)

    # The draft never ran and October stopped before the range.
    assert funnels == [
        CampaignFunnel(
            campaign_id=dashboard_data.november.pk,
            campaign="November",
            merchant="Acme Retail",
            status="running",
            leads=4,
            dialled=2,
            answered=1,
            completed=1,
            with_outcome=1,
        )
    ]
