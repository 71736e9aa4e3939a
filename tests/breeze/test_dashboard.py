"""GET /api/v1/dashboard and the dashboards page: scoping, date validation, exact numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from config.models import Membership, Merchant
from tests.calls.dashboard.conftest import DashboardData, dashboard_data  # noqa: F401
from tests.conftest import Tenants

Role = Membership.Role
URL = "/api/v1/dashboard"
DAY = {"from": "2026-11-20", "to": "2026-11-20"}


@pytest.fixture
def as_member(
    login: Callable[[User], Client], make_member: Callable[[str, Merchant | None], User]
) -> Callable[[str, Merchant | None], Client]:
    return lambda role, merchant: login(make_member(role, merchant))


def _fields(response: Any) -> list[tuple[str, str]]:
    return [(error["field"], error["message"]) for error in response.json()["error"]["fields"]]


def test_a_merchant_viewer_gets_their_numbers(
    dashboard_data: DashboardData,  # noqa: F811
    as_member: Callable[..., Client],
    tenants: Tenants,
) -> None:
    client = as_member(Role.VIEWER, tenants.acme)

    response = client.get(URL, DAY)

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["merchant"]) == ("2026-11-20", "2026-11-20", None)
    assert len(body["calls_per_hour"]) == 24
    assert body["calls_per_hour"][10] == {
        "hour": "2026-11-20T10:00:00+00:00",
        "calls": 2,
        "answered": 2,
    }
    assert body["answer_rate"] == {"dialled": 4, "answered": 3, "rate": 0.75}
    assert [(row["provider"], row["p50_ms"], row["p95_ms"]) for row in body["latency"]] == [
        ("simulator", 850.0, 895.0),
        ("twilio", 350.0, 875.0),
    ]
    assert body["webhooks"]["rate"] == 0.75
    assert [
        (f["campaign"], f["leads"], f["dialled"], f["answered"]) for f in body["campaign_funnels"]
    ] == [("November", 4, 2, 1)]


def test_another_merchant_is_refused_by_name(
    dashboard_data: DashboardData,  # noqa: F811
    as_member: Callable[..., Client],
    tenants: Tenants,
) -> None:
    client = as_member(Role.OPERATOR, tenants.acme)

    response = client.get(URL, {**DAY, "merchant": str(tenants.globex.pk)})

    assert response.status_code == 400
    assert _fields(response) == [("merchant", "No such merchant.")]


def test_a_platform_admin_sees_any_merchant(
    dashboard_data: DashboardData,  # noqa: F811
    as_member: Callable[..., Client],
    tenants: Tenants,
) -> None:
    client = as_member(Role.PLATFORM_ADMIN, None)

    everyone = client.get(URL, DAY).json()
    globex = client.get(URL, {**DAY, "merchant": str(tenants.globex.pk)}).json()

    assert everyone["answer_rate"] == {"dialled": 5, "answered": 4, "rate": 0.8}
    assert globex["merchant"] == tenants.globex.pk
    assert globex["answer_rate"] == {"dialled": 1, "answered": 1, "rate": 1.0}
    assert globex["campaign_funnels"] == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"from": "2026-13-01"},
            ("from", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ),
        (
            {"to": "yesterday"},
            ("to", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ),
        ({"from": "2026-11-21", "to": "2026-11-20"}, ("to", "Must not be before `from`.")),
        ({"from": "2026-01-01", "to": "2026-11-20"}, ("to", "The range may span at most 93 days.")),
        (
            {"from": "1999-12-31", "to": "2000-01-01"},
            ("from", "Must be between 2000-01-01 and 2999-12-31."),
        ),
        ({"to": "9999-12-31"}, ("to", "Must be between 2000-01-01 and 2999-12-31.")),
        ({"merchant": "acme"}, ("merchant", "Not a merchant id.")),
    ],
)
def test_bad_filters_answer_400_naming_the_field(
    params: dict[str, str],
    expected: tuple[str, str],
    as_member: Callable[..., Client],
    tenants: Tenants,
) -> None:
    client = as_member(Role.VIEWER, tenants.acme)

    response = client.get(URL, params)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation_error"
    assert _fields(response) == [expected]


def test_the_range_defaults_to_the_last_seven_days(
    as_member: Callable[..., Client], tenants: Tenants
) -> None:
    client = as_member(Role.VIEWER, tenants.acme)
    today = dt.datetime.now(dt.UTC).date()

    body = client.get(URL).json()

    assert (body["from"], body["to"]) == (
        (today - dt.timedelta(days=6)).isoformat(),
        today.isoformat(),
    )
    assert len(body["calls_per_hour"]) == 7 * 24


def test_signing_in_is_required(client: Client, tenants: Tenants) -> None:
    assert client.get(URL, DAY).status_code in (401, 403)
    page = client.get("/admin/dashboard/")
    assert (page.status_code, page["Location"].startswith("/admin/login/")) == (302, True)


def test_the_page_offers_the_callers_merchants(
    as_member: Callable[..., Client], tenants: Tenants
) -> None:
    client = as_member(Role.VIEWER, tenants.acme)

    page = client.get("/admin/dashboard/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-url="/api/v1/dashboard"' in html
    assert f'<option value="{tenants.acme.pk}">Acme Retail</option>' in html
    assert "Globex Stores" not in html
    assert 'id="chart-latency"' in html


def test_both_days_of_the_range_are_included(
    dashboard_data: DashboardData,  # noqa: F811
    as_member: Callable[..., Client],
    tenants: Tenants,
) -> None:
    client = as_member(Role.VIEWER, tenants.acme)

    after = client.get(URL, {"from": "2026-11-21", "to": "2026-11-22"}).json()
    before = client.get(URL, {"from": "2026-11-19", "to": "2026-11-19"}).json()

    # Only Acme's call of 2026-11-22 10:00 falls in the first range; none in the second.
    assert after["answer_rate"] == {"dialled": 1, "answered": 1, "rate": 1.0}
    assert len(after["calls_per_hour"]) == 48
    assert after["calls_per_hour"][24 + 10]["calls"] == 1
    assert before["answer_rate"] == {"dialled": 0, "answered": 0, "rate": None}
