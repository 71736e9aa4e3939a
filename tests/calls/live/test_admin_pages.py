"""The live-calls admin pages: calls in progress of the caller's merchants, one call's page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from calls.models import Call
from calls.services import call_advance, call_create
from config.models import Membership, Merchant
from templates_app.models import TemplateVersion
from tests.conftest import Tenants

Role = Membership.Role
LIST = "/admin/calls/call/live/"


@pytest.fixture
def as_member(
    login: Callable[[User], Client], make_member: Callable[[str, Merchant | None], User]
) -> Callable[[str, Merchant | None], Client]:
    return lambda role, merchant: login(make_member(role, merchant))


def _watch(call: Call) -> str:
    return f"/admin/calls/call/{call.pk}/live/"


def test_the_list_shows_only_calls_in_progress(
    call: Call, published: TemplateVersion, as_member: Callable[..., Client], tenants: Tenants
) -> None:
    finished = call_create(
        version=published, execution_mode=Call.ExecutionMode.TELEPHONY_TEST, provider="simulator",
        customer_phone="+15555550124", payload=call.payload,
    )  # fmt: skip
    call_advance(call_id=call.pk, status=Call.Status.IN_PROGRESS)
    call_advance(call_id=finished.pk, status=Call.Status.ENDED)
    client = as_member(Role.VIEWER, tenants.acme)

    page = client.get(LIST)
    rows = client.get(LIST + "rows/").json()["calls"]

    assert page.status_code == 200
    assert f'data-call-id="{call.pk}"' in page.content.decode()
    assert f'data-call-id="{finished.pk}"' not in page.content.decode()
    assert [(row["id"], row["status"], row["watch_url"]) for row in rows] == [
        (call.pk, "in_progress", _watch(call))
    ]


def test_another_merchants_calls_are_neither_listed_nor_watchable(
    call: Call, as_member: Callable[..., Client], tenants: Tenants
) -> None:
    call_advance(call_id=call.pk, status=Call.Status.IN_PROGRESS)
    client = as_member(Role.OPERATOR, tenants.globex)

    assert client.get(LIST + "rows/").json() == {"calls": []}
    assert client.get(_watch(call)).status_code == 404


@pytest.mark.parametrize(("role", "has_button"), [(Role.OPERATOR, True), (Role.VIEWER, False)])
def test_only_roles_that_may_end_calls_get_the_button(
    call: Call, as_member: Callable[..., Client], tenants: Tenants, role: str, has_button: bool
) -> None:
    client = as_member(role, tenants.acme)

    page = client.get(_watch(call))

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-socket-path="/ws/live/calls/{call.pk}/"' in html
    assert ('data-testid="live-end-call"' in html) is has_button
