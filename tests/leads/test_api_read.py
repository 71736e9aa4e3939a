from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import Call
from config.models import Membership, Merchant
from leads.models import Lead, LeadImport, LeadTransition
from leads.services import lead_transition
from templates_app.models import Template
from tests.conftest import Tenants
from tests.leads.conftest import push_body

Role = Membership.Role


@pytest.fixture
def push(operator_api: APIClient) -> Callable[..., Lead]:
    def do(**changes: Any) -> Lead:
        response = operator_api.post("/api/v1/leads", push_body(**changes), format="json")
        assert response.status_code == 201, response.content
        return Lead.objects.get(pk=response.json()["id"])

    return do


@pytest.fixture
def globex_lead(make_template: Callable[..., Template], tenants: Tenants) -> Lead:
    template = make_template("globex-orders", merchant=tenants.globex)
    return Lead.objects.create(
        merchant=tenants.globex,
        template=template,
        template_version=template.versions.get(),
        phone="+12015550123",
    )


def ids(response: Any) -> list[int]:
    return [lead["id"] for lead in response.json()["results"]]


class TestList:
    def test_filters(
        self,
        operator_api: APIClient,
        push: Callable[..., Lead],
        make_template: Callable[..., Template],
        globex_lead: Lead,
    ) -> None:
        make_template("reminders")
        first = push()
        second = push(phone="+919800000002", template="reminders")
        third = push(phone="+919800000003")
        lead_transition(
            lead_id=third.pk, from_statuses=["scheduled"], to_status="cancelled", actor="t"
        )
        Lead.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
        yesterday = (timezone.now() - dt.timedelta(days=1)).isoformat()

        def listed(**params: str) -> list[int]:
            response = operator_api.get("/api/v1/leads", params)
            assert response.status_code == 200, response.content
            return ids(response)

        assert listed() == [third.pk, second.pk, first.pk]
        assert listed(status="cancelled") == [third.pk]
        assert listed(template="reminders") == [second.pk]
        assert listed(template=str(second.template_id)) == [second.pk]
        assert listed(created_after=yesterday) == [third.pk, second.pk]
        assert listed(created_before=yesterday) == [first.pk]
        assert listed(phone="+919800000002") == [second.pk]
        # An unencoded + in a query string arrives as a space.
        assert listed(phone=" 919800000003") == [third.pk]

    def test_bad_filters_name_the_parameter(self, operator_api: APIClient) -> None:
        response = operator_api.get("/api/v1/leads", {"status": "lost", "created_after": "x"})

        assert response.status_code == 400
        assert sorted(item["field"] for item in response.json()["error"]["fields"]) == [
            "created_after",
            "status",
        ]

    def test_cursor_pages(self, operator_api: APIClient, push: Callable[..., Lead]) -> None:
        pushed = [push(phone=f"+91980000001{index}").pk for index in range(5)]

        page = operator_api.get("/api/v1/leads", {"page_size": "2"})
        seen = ids(page)
        while page.json()["next"]:
            page = operator_api.get(page.json()["next"])
            seen += ids(page)

        assert seen == pushed[::-1]

    def test_cursor_pages_through_a_bulk_sharing_one_creation_time(
        self, operator_api: APIClient
    ) -> None:
        bulk = [push_body(phone=f"+9198{index:08d}") for index in range(120)]
        pushed = operator_api.post("/api/v1/leads/bulk", {"leads": bulk}, format="json").json()
        assert Lead.objects.values("created_at").distinct().count() == 1

        for params in ({}, {"status": "scheduled"}):
            page = operator_api.get("/api/v1/leads", {"page_size": "50", **params})
            seen = ids(page)
            while page.json()["next"]:
                page = operator_api.get(page.json()["next"])
                seen += ids(page)
            assert seen == sorted((lead["id"] for lead in pushed["leads"]), reverse=True), params

    def test_only_the_callers_merchants(
        self,
        api: Callable[[str], APIClient],
        push: Callable[..., Lead],
        globex_lead: Lead,
    ) -> None:
        ours = push()

        for role in (Role.MERCHANT_ADMIN, Role.OPERATOR, Role.VIEWER):
            assert ids(api(role).get("/api/v1/leads")) == [ours.pk]
        assert ids(api(Role.PLATFORM_ADMIN).get("/api/v1/leads")) == [ours.pk, globex_lead.pk]


def test_detail_has_history_and_calls(operator_api: APIClient, push: Callable[..., Lead]) -> None:
    lead = push()
    lead_transition(
        lead_id=lead.pk,
        from_statuses=["scheduled"],
        to_status="dialing",
        actor="dispatcher",
        reason="claimed",
    )
    call = Call.objects.create(
        merchant_id=lead.merchant_id,
        template_version=lead.template_version,
        lead=lead,
        execution_mode=lead.execution_mode,
        provider="simulator",
        customer_phone=lead.phone,
        disposition="no_answer",
    )

    response = operator_api.get(f"/api/v1/leads/{lead.pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (lead.pk, "dialing")
    assert [
        (item["from_status"], item["to_status"], item["actor"], item["reason"])
        for item in body["transitions"]
    ] == [
        ("", "scheduled", "user:operator-acme", "pushed"),
        ("scheduled", "dialing", "dispatcher", "claimed"),
    ]
    assert body["calls"] == [
        {
            "id": call.pk,
            "status": "queued",
            "disposition": "no_answer",
            "outcome": "",
            "provider": "simulator",
            "started_at": None,
            "ended_at": None,
            "duration_seconds": None,
        }
    ]


class TestCancel:
    def test_a_scheduled_lead_is_cancelled_and_stays_so(
        self, operator_api: APIClient, push: Callable[..., Lead]
    ) -> None:
        lead = push()

        first = operator_api.post(
            f"/api/v1/leads/{lead.pk}/cancel", {"reason": "customer called us"}, format="json"
        )
        again = operator_api.post(f"/api/v1/leads/{lead.pk}/cancel", format="json")

        assert (first.status_code, again.status_code) == (200, 200)
        assert (first.json()["status"], first.json()["next_attempt_at"]) == ("cancelled", None)
        assert list(
            LeadTransition.objects.filter(lead=lead).values_list("to_status", "reason", "actor")
        ) == [
            ("scheduled", "pushed", "user:operator-acme"),
            ("cancelled", "customer called us", "user:operator-acme"),
        ]

    def test_a_lead_being_called_cannot_be_cancelled(
        self, operator_api: APIClient, push: Callable[..., Lead]
    ) -> None:
        lead = push()
        lead_transition(
            lead_id=lead.pk, from_statuses=["scheduled"], to_status="dialing", actor="d"
        )

        response = operator_api.post(f"/api/v1/leads/{lead.pk}/cancel", format="json")

        assert response.status_code == 409
        assert response.json()["error"] == {
            "type": "conflict",
            "message": "A dialing lead cannot be cancelled.",
        }
        lead.refresh_from_db()
        assert lead.status == "dialing"


class TestDispatchNow:
    def test_a_later_lead_becomes_due_now(
        self, operator_api: APIClient, push: Callable[..., Lead]
    ) -> None:
        lead = push(scheduled_at="2031-01-01T10:00:00Z")
        before = timezone.now()

        response = operator_api.post(f"/api/v1/leads/{lead.pk}/dispatch-now", format="json")

        assert response.status_code == 200
        lead.refresh_from_db()
        assert lead.status == "scheduled"
        assert lead.next_attempt_at is not None
        assert before <= lead.next_attempt_at <= timezone.now()
        assert lead.scheduled_at == dt.datetime(2031, 1, 1, 10, tzinfo=dt.UTC)
        assert LeadTransition.objects.filter(lead=lead).last().reason == "dispatch now"  # type: ignore[union-attr]

    def test_a_finished_lead_cannot_be_dispatched(
        self, operator_api: APIClient, push: Callable[..., Lead]
    ) -> None:
        lead = push()
        lead_transition(
            lead_id=lead.pk, from_statuses=["scheduled"], to_status="completed", actor="d"
        )

        response = operator_api.post(f"/api/v1/leads/{lead.pk}/dispatch-now", format="json")

        assert response.status_code == 409
        assert response.json()["error"]["message"] == "A completed lead cannot be dispatched."


@pytest.mark.parametrize("action", ["cancel", "dispatch-now"])
def test_a_viewer_may_read_but_not_change(
    api: Callable[[str], APIClient], push: Callable[..., Lead], action: str
) -> None:
    lead = push()
    viewer = api(Role.VIEWER)

    read = viewer.get(f"/api/v1/leads/{lead.pk}")
    change = viewer.post(f"/api/v1/leads/{lead.pk}/{action}", format="json")

    assert (read.status_code, change.status_code) == (200, 403)
    lead.refresh_from_db()
    assert lead.status == "scheduled"


@pytest.mark.parametrize(
    ("role", "change"),
    [
        (Role.MERCHANT_ADMIN, 404),
        (Role.OPERATOR, 404),
        # A viewer may change no lead anywhere, so it is refused before any lookup: the same
        # answer for a lead that exists elsewhere and one that does not.
        (Role.VIEWER, 403),
    ],
)
def test_another_merchants_lead_and_import_are_not_found(
    api: Callable[[str], APIClient], globex_lead: Lead, tenants: Tenants, role: str, change: int
) -> None:
    client = api(role)
    globex_import = LeadImport.objects.create(
        merchant=tenants.globex,
        template=globex_lead.template,
        execution_mode="TELEPHONY",
        file="lead_imports/x.csv",
    )

    answers = [
        client.get(f"/api/v1/leads/{globex_lead.pk}").status_code,
        client.post(f"/api/v1/leads/{globex_lead.pk}/cancel", format="json").status_code,
        client.post(f"/api/v1/leads/{globex_lead.pk}/dispatch-now", format="json").status_code,
        client.get(f"/api/v1/lead-imports/{globex_import.pk}").status_code,
        client.get("/api/v1/leads/999999").status_code,
        client.post("/api/v1/leads/999999/cancel", format="json").status_code,
    ]

    assert answers == [404, change, change, 404, 404, change]
    globex_lead.refresh_from_db()
    assert globex_lead.status == "scheduled"


def test_a_member_of_no_merchant_sees_nothing(
    make_member: Callable[[str, Merchant | None], Any], push: Callable[..., Lead]
) -> None:
    lead = push()
    stranger = APIClient()
    stranger.force_authenticate(
        user=make_member(Role.OPERATOR, Merchant.objects.create(name="Initech", slug="initech"))
    )

    assert stranger.get(f"/api/v1/leads/{lead.pk}").status_code == 404
    assert ids(stranger.get("/api/v1/leads")) == []
