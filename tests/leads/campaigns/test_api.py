"""The campaign API: create with errors by field, lifecycle actions, scoping and roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from config.models import Membership
from leads.models import Campaign, Lead
from templates_app.models import Template
from tests.leads.conftest import error_fields

Role = Membership.Role
MakeLead = Callable[..., Lead]


@pytest.fixture
def operator(api: Callable[[str], APIClient], dispatch_template: Template) -> APIClient:
    return api(Role.OPERATOR)


def body(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "November COD confirmations",
        "template": "dispatch-test",
        "lead_filter": {},
        "calls_per_minute": 6,
        "max_concurrency": 2,
    }
    values.update(changes)
    return values


def test_create_takes_the_filtered_leads_and_answers_the_campaign_with_progress(
    operator: APIClient, make_lead: MakeLead
) -> None:
    leads = [make_lead(), make_lead()]

    response = operator.post("/api/v1/campaigns", body(), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    campaign = Campaign.objects.get()
    assert data["id"] == campaign.pk
    assert (data["status"], data["template"], data["merchant"]) == (
        "draft",
        "dispatch-test",
        "acme",
    )
    assert (data["calls_per_minute"], data["max_concurrency"]) == (6, 2)
    assert (data["failure_threshold"], data["failure_window"]) == (0.5, 10)
    assert data["created_by"] == "user:operator-acme"
    assert data["lead_filter"] == {
        "status": ["queued", "scheduled"],
        "created_after": None,
        "created_before": None,
    }
    assert data["progress"]["leads"] == 2
    assert data["progress"]["remaining"] == 2
    assert data["progress"]["by_status"]["queued"] == 2
    assert sorted(Lead.objects.filter(campaign=campaign).values_list("pk", flat=True)) == [
        lead.pk for lead in leads
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"calls_per_minute": 0}, [("calls_per_minute", "min_value")]),
        ({"max_concurrency": "many"}, [("max_concurrency", "invalid")]),
        ({"failure_threshold": 1.5}, [("failure_threshold", "max_value")]),
        ({"name": ""}, [("name", "blank")]),
        ({"template": "nope"}, [("template", "invalid")]),
        ({"lead_filter": {"status": ["completed"]}}, [("lead_filter.status.0", "invalid_choice")]),
        ({"lead_filter": None}, [("lead_filter", "null")]),
        ({"lead_import": 999999}, [("lead_import", "invalid")]),
    ],
)
def test_bad_input_is_400_naming_the_field(
    operator: APIClient, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    response = operator.post("/api/v1/campaigns", body(**changes), format="json")

    assert response.status_code == 400
    assert error_fields(response) == expected
    assert not Campaign.objects.exists()


def test_neither_or_both_sources_is_400_on_lead_import(operator: APIClient) -> None:
    neither = {key: value for key, value in body().items() if key != "lead_filter"}

    response = operator.post("/api/v1/campaigns", neither, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == [
        {
            "field": "lead_import",
            "code": "invalid",
            "message": "Give either a lead import or a lead filter.",
        }
    ]


def test_actions_move_the_campaign_and_refuse_the_wrong_status_with_409(
    operator: APIClient, make_lead: MakeLead
) -> None:
    make_lead()
    campaign_id = operator.post("/api/v1/campaigns", body(), format="json").json()["id"]
    base = f"/api/v1/campaigns/{campaign_id}"

    assert operator.post(f"{base}/pause").status_code == 409
    assert operator.post(f"{base}/start").json()["status"] == "running"
    paused = operator.post(f"{base}/pause", {"reason": "supplier delay"}, format="json").json()
    assert (paused["status"], paused["pause_reason"]) == ("paused", "supplier delay")
    assert operator.post(f"{base}/resume").json()["status"] == "running"
    stopped = operator.post(f"{base}/stop").json()
    assert stopped["status"] == "stopped"
    assert stopped["progress"]["by_status"]["cancelled"] == 1
    refused = operator.post(f"{base}/start")
    assert refused.status_code == 409
    assert refused.json() == {
        "error": {"type": "conflict", "message": "A stopped campaign cannot be started."}
    }


def test_another_merchants_campaign_is_404_everywhere_and_absent_from_the_list(
    operator: APIClient, globex_campaign: Campaign
) -> None:
    theirs = globex_campaign
    for path in ("", "/start", "/pause", "/resume", "/stop"):
        method = operator.get if not path else operator.post
        response = method(f"/api/v1/campaigns/{theirs.pk}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["type"] == "not_found"
    assert operator.get("/api/v1/campaigns").json()["results"] == []
    # Their template is unknown to this caller, exactly like one that does not exist.
    named = operator.post(
        "/api/v1/campaigns", body(template="order-confirmation", merchant="globex"), format="json"
    )
    assert error_fields(named) == [("template", "invalid")]
    theirs.refresh_from_db()
    assert theirs.status == Campaign.Status.DRAFT


def test_a_viewer_reads_but_may_not_create_or_start(
    api: Callable[[str], APIClient], operator: APIClient, make_lead: MakeLead
) -> None:
    make_lead()
    campaign_id = operator.post("/api/v1/campaigns", body(), format="json").json()["id"]
    viewer = api(Role.VIEWER)

    assert viewer.get(f"/api/v1/campaigns/{campaign_id}").status_code == 200
    assert [row["id"] for row in viewer.get("/api/v1/campaigns").json()["results"]] == [campaign_id]
    assert viewer.post("/api/v1/campaigns", body(), format="json").status_code == 403
    refused = viewer.post(f"/api/v1/campaigns/{campaign_id}/start")
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "permission_denied"
    assert Campaign.objects.get().status == Campaign.Status.DRAFT


def test_dispatch_now_refuses_a_campaigns_lead(operator: APIClient, make_lead: MakeLead) -> None:
    lead = make_lead()
    operator.post("/api/v1/campaigns", body(), format="json")

    response = operator.post(f"/api/v1/leads/{lead.pk}/dispatch-now")

    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        "A campaign's lead is dialled by its campaign; start or resume it."
    )
    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUEUED
