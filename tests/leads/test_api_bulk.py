from __future__ import annotations

from collections.abc import Callable

from django.conf import LazySettings
from rest_framework.test import APIClient

from config.models import Membership
from leads.models import Lead, LeadTransition
from templates_app.models import Template
from tests.leads.conftest import error_fields, push_body

Role = Membership.Role


def numbered(count: int, **changes: object) -> list[dict[str, object]]:
    return [push_body(phone=f"+9198123{index:05d}", **changes) for index in range(count)]


def test_bulk_stores_every_lead_in_order(
    operator_api: APIClient, make_template: Callable[..., Template]
) -> None:
    make_template("reminders")
    leads = [*numbered(3), push_body(template="reminders", phone="+919800000001")]

    response = operator_api.post("/api/v1/leads/bulk", {"leads": leads}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    stored = {lead.pk: lead for lead in Lead.objects.select_related("template")}
    assert (body["created"], body["existing"]) == (4, 0)
    assert [stored[item["id"]].phone for item in body["leads"]] == [
        "+919812300000",
        "+919812300001",
        "+919812300002",
        "+919800000001",
    ]
    assert stored[body["leads"][3]["id"]].template.slug == "reminders"
    assert {item["status"] for item in body["leads"]} == {"scheduled"}
    assert list(LeadTransition.objects.values_list("reason", flat=True)) == ["bulk push"] * 4


def test_one_bad_item_refuses_the_whole_batch_naming_each_item(
    operator_api: APIClient,
) -> None:
    leads = numbered(5)
    leads[1]["phone"] = "12"
    leads[3]["payload"] = {"customer_name": "Asha", "order_total": "10"}
    leads[4]["template"] = "nope"

    response = operator_api.post("/api/v1/leads/bulk", {"leads": leads}, format="json")

    assert response.status_code == 400
    assert error_fields(response) == [
        ("leads.1.phone", "invalid_phone"),
        ("leads.3.payload.order_id", "required"),
        ("leads.4.template", "not_found"),
    ]
    assert not Lead.objects.exists()


def test_malformed_batches(operator_api: APIClient) -> None:
    not_a_list = operator_api.post("/api/v1/leads/bulk", {"leads": {}}, format="json")
    empty = operator_api.post("/api/v1/leads/bulk", {"leads": []}, format="json")
    not_objects = operator_api.post(
        "/api/v1/leads/bulk", {"leads": [push_body(), "x"]}, format="json"
    )

    assert error_fields(not_a_list) == [("leads", "invalid")]
    assert error_fields(empty) == [("leads", "required")]
    assert error_fields(not_objects) == [("leads.1", "invalid")]


def test_more_than_10000_leads_is_too_large(operator_api: APIClient) -> None:
    response = operator_api.post("/api/v1/leads/bulk", {"leads": [{}] * 10_001}, format="json")

    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "type": "payload_too_large",
            "message": "leads: At most 10000 leads per request.",
        }
    }


def test_the_limit_is_a_setting(operator_api: APIClient, settings: LazySettings) -> None:
    settings.BREEZE_LEADS_BULK_MAX = 3

    at_limit = operator_api.post("/api/v1/leads/bulk", {"leads": numbered(3)}, format="json")
    over = operator_api.post("/api/v1/leads/bulk", {"leads": numbered(4)}, format="json")

    assert (at_limit.status_code, over.status_code) == (201, 413)


class TestIdempotencyInBulk:
    def test_keys_pushed_before_come_back_as_they_were(self, operator_api: APIClient) -> None:
        single = operator_api.post("/api/v1/leads", push_body(idempotency_key="k-1"), format="json")
        leads = [push_body(idempotency_key="k-1"), push_body(idempotency_key="k-2")]

        response = operator_api.post("/api/v1/leads/bulk", {"leads": leads}, format="json")
        again = operator_api.post("/api/v1/leads/bulk", {"leads": leads}, format="json")

        assert response.status_code == 201
        body = response.json()
        assert (body["created"], body["existing"]) == (1, 1)
        assert [(item["idempotency_key"], item["created"]) for item in body["leads"]] == [
            ("k-1", False),
            ("k-2", True),
        ]
        assert body["leads"][0]["id"] == single.json()["id"]
        assert again.status_code == 200
        assert again.json()["existing"] == 2
        assert Lead.objects.count() == 2

    def test_a_key_reused_with_another_body_or_twice_in_a_batch_is_refused(
        self, operator_api: APIClient
    ) -> None:
        operator_api.post("/api/v1/leads", push_body(idempotency_key="k-1"), format="json")
        leads = [
            push_body(idempotency_key="k-1", phone="+919800000009"),
            push_body(idempotency_key="k-2"),
            push_body(idempotency_key="k-2"),
        ]

        conflict = operator_api.post("/api/v1/leads/bulk", {"leads": leads[:2]}, format="json")
        twice = operator_api.post("/api/v1/leads/bulk", {"leads": leads[1:]}, format="json")

        assert error_fields(conflict) == [("leads.0.idempotency_key", "idempotency_conflict")]
        assert error_fields(twice) == [("leads.1.idempotency_key", "duplicate")]
        assert Lead.objects.count() == 1


def test_a_viewer_may_not_bulk_push(
    api: Callable[[str], APIClient], order_template: Template
) -> None:
    response = api(Role.VIEWER).post("/api/v1/leads/bulk", {"leads": numbered(2)}, format="json")

    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_a_nul_character_is_refused_before_the_template_is_looked_up(
    operator_api: APIClient,
) -> None:
    leads = [push_body(), push_body(template="order\u0000confirmation")]

    response = operator_api.post("/api/v1/leads/bulk", {"leads": leads}, format="json")

    assert response.status_code == 400
    assert error_fields(response) == [("leads.1.template", "null_character")]
