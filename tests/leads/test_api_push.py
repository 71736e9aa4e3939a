from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings
from django.utils import timezone
from rest_framework.test import APIClient

from config.models import Membership
from leads.models import Lead, LeadTransition
from leads.phones import region_for_time_zone
from leads.tasks import dispatch_due_leads
from templates_app.models import Template
from tests.conftest import Tenants
from tests.leads.conftest import error_fields, push_body

Role = Membership.Role


def test_push_answers_201_with_the_stored_lead(operator_api: APIClient) -> None:
    response = operator_api.post(
        "/api/v1/leads",
        push_body(
            phone="098123 45678", time_zone="Asia/Kolkata", webhook_url="https://x.example/h"
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    lead = Lead.objects.get()
    assert body["id"] == lead.pk
    assert (body["phone"], body["status"], body["template"], body["merchant"]) == (
        "+919812345678",
        "scheduled",
        "order-confirmation",
        "acme",
    )
    assert (body["template_version"], body["time_zone"], body["webhook_url"]) == (
        1,
        "Asia/Kolkata",
        "https://x.example/h",
    )
    assert body["created_by"] == "user:operator-acme"
    assert lead.next_attempt_at is not None
    assert abs(lead.next_attempt_at - lead.created_at) < dt.timedelta(seconds=1)
    assert list(LeadTransition.objects.values_list("from_status", "to_status", "reason")) == [
        ("", "scheduled", "pushed")
    ]


def test_the_merchants_time_zone_gives_the_phone_region() -> None:
    assert region_for_time_zone("Asia/Kolkata") == "IN"
    assert region_for_time_zone("America/New_York") == "US"
    assert region_for_time_zone("UTC") is None


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("12345", "invalid_phone"),
        ("not a phone", "invalid_phone"),
        ("+1 555", "invalid_phone"),
        ("", "required"),
        (919812345678, "invalid"),
    ],
)
def test_bad_phones_are_refused(operator_api: APIClient, phone: object, code: str) -> None:
    response = operator_api.post("/api/v1/leads", push_body(phone=phone), format="json")

    assert response.status_code == 400
    assert error_fields(response) == [("phone", code)]
    assert not Lead.objects.exists()


def test_every_problem_is_reported_at_once_by_field_path(operator_api: APIClient) -> None:
    body = push_body(
        phone="12",
        payload={"customer_name": "Asha", "order_id": 42},
        execution_mode="FAX",
        time_zone="Mars/Olympus",
        scheduled_at="2026-12-01T10:00:00",
        webhook_url="ftp://files.example.com/",
        colour="blue",
    )

    response = operator_api.post("/api/v1/leads", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation_error"
    assert sorted(error_fields(response)) == [
        ("colour", "unknown_field"),
        ("execution_mode", "invalid_choice"),
        ("payload.order_id", "invalid_type"),
        ("payload.order_total", "required"),
        ("phone", "invalid_phone"),
        ("scheduled_at", "naive_datetime"),
        ("time_zone", "invalid"),
        ("webhook_url", "invalid"),
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"payload": ["A1042"]}, [("payload", "invalid")]),
        ({"scheduled_at": "next tuesday"}, [("scheduled_at", "invalid")]),
        ({"scheduled_at": "9999-12-31T23:59:59-14:00"}, [("scheduled_at", "invalid")]),
        ({"scheduled_at": "0001-01-01T00:00:00+14:00"}, [("scheduled_at", "invalid")]),
        ({"webhook_url": "javascript:alert(1)"}, [("webhook_url", "invalid")]),
        ({"template": ""}, [("template", "required")]),
        ({"template": "no-such-template"}, [("template", "not_found")]),
        ({"is_playground": "yes"}, [("is_playground", "invalid")]),
        ({"idempotency_key": "k" * 256}, [("idempotency_key", "invalid")]),
    ],
)
def test_malformed_fields(
    operator_api: APIClient, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    response = operator_api.post("/api/v1/leads", push_body(**changes), format="json")
    bulk = operator_api.post("/api/v1/leads/bulk", {"leads": [push_body(**changes)]}, format="json")

    assert response.status_code == 400
    assert error_fields(response) == expected
    assert bulk.status_code == 400
    assert error_fields(bulk) == [(f"leads.0.{field}", code) for field, code in expected]
    assert Lead.objects.count() == 0


def test_scheduled_at_with_an_offset_sets_the_first_attempt(operator_api: APIClient) -> None:
    response = operator_api.post(
        "/api/v1/leads", push_body(scheduled_at="2030-01-02T09:30:00+05:30"), format="json"
    )

    assert response.status_code == 201
    lead = Lead.objects.get()
    expected = dt.datetime(2030, 1, 2, 4, 0, tzinfo=dt.UTC)
    assert (lead.scheduled_at, lead.next_attempt_at) == (expected, expected)


def test_undeclared_payload_keys_are_kept_unless_the_template_is_strict(
    operator_api: APIClient, make_template: Callable[..., Template]
) -> None:
    make_template("strict-orders", variables_strict=True)
    extra = {**push_body()["payload"], "loyalty_tier": "gold"}

    relaxed = operator_api.post("/api/v1/leads", push_body(payload=extra), format="json")
    strict = operator_api.post(
        "/api/v1/leads", push_body(template="strict-orders", payload=extra), format="json"
    )

    assert relaxed.status_code == 201
    assert relaxed.json()["payload"]["loyalty_tier"] == "gold"
    assert strict.status_code == 400
    assert error_fields(strict) == [("payload.loyalty_tier", "unknown_field")]


def test_inactive_and_unpublished_templates_are_refused(
    operator_api: APIClient, make_template: Callable[..., Template]
) -> None:
    make_template("draft-only", publish=False)
    inactive = make_template("retired")
    Template.objects.filter(pk=inactive.pk).update(is_active=False)

    draft = operator_api.post("/api/v1/leads", push_body(template="draft-only"), format="json")
    retired = operator_api.post("/api/v1/leads", push_body(template="retired"), format="json")

    assert error_fields(draft) == [("template", "unpublished")]
    assert error_fields(retired) == [("template", "inactive")]


def test_a_template_may_be_named_by_id(operator_api: APIClient, order_template: Template) -> None:
    response = operator_api.post(
        "/api/v1/leads", push_body(template=order_template.pk), format="json"
    )

    assert response.status_code == 201
    assert response.json()["template"] == "order-confirmation"


@pytest.mark.parametrize("template", ["\u00b9", "\u2460", "12\u00b3", "99999999999999999999"])
def test_digit_lookalikes_and_oversized_ids_are_unknown_templates(
    operator_api: APIClient, template: str
) -> None:
    # "¹".isdigit() is True but int("¹") raises: found by the schema fuzzer as a 500.
    response = operator_api.post("/api/v1/leads", push_body(template=template), format="json")

    assert error_fields(response) == [("template", "not_found")]
    assert not Lead.objects.exists()


def test_another_merchants_template_is_unknown(
    operator_api: APIClient, make_template: Callable[..., Template], tenants: Tenants
) -> None:
    theirs = make_template("globex-orders", merchant=tenants.globex)

    by_slug = operator_api.post("/api/v1/leads", push_body(template="globex-orders"), format="json")
    by_id = operator_api.post("/api/v1/leads", push_body(template=theirs.pk), format="json")

    assert error_fields(by_slug) == [("template", "not_found")]
    assert error_fields(by_id) == [("template", "not_found")]
    assert not Lead.objects.exists()


def test_execution_modes_the_template_does_not_allow_are_refused(
    operator_api: APIClient, make_template: Callable[..., Template]
) -> None:
    make_template(
        "test-only",
        execution={"execution_modes": ["TELEPHONY_TEST"], "telephony_provider": "simulator"},
    )

    live = operator_api.post("/api/v1/leads", push_body(template="test-only"), format="json")
    test = operator_api.post(
        "/api/v1/leads",
        push_body(template="test-only", execution_mode="TELEPHONY_TEST"),
        format="json",
    )

    assert error_fields(live) == [("execution_mode", "not_allowed")]
    assert test.status_code == 201


def test_playground_overrides_only_in_test_modes(operator_api: APIClient) -> None:
    overrides = {"llm": {"temperature": 0.1}}

    live = operator_api.post(
        "/api/v1/leads",
        push_body(is_playground=True, config_overrides=overrides),
        format="json",
    )
    orphan = operator_api.post(
        "/api/v1/leads",
        push_body(execution_mode="DAILY_TEST", config_overrides=overrides),
        format="json",
    )
    unknown_section = operator_api.post(
        "/api/v1/leads",
        push_body(execution_mode="DAILY_TEST", is_playground=True, config_overrides={"x": {}}),
        format="json",
    )
    test = operator_api.post(
        "/api/v1/leads",
        push_body(execution_mode="DAILY_TEST", is_playground=True, config_overrides=overrides),
        format="json",
    )

    assert error_fields(live) == [("is_playground", "not_allowed")]
    assert error_fields(orphan) == [("config_overrides", "invalid")]
    assert error_fields(unknown_section) == [("config_overrides", "invalid")]
    assert test.status_code == 201
    assert (test.json()["is_playground"], test.json()["config_overrides"]) == (True, overrides)


HOSTILE = {
    "customer_name": "Robert'); DROP TABLE leads_lead;--",
    "order_id": "<script>alert(1)</script>{order_total}",
    "order_total": "名前 🚀 \u202eevil? ${jndi:ldap://x} %s %n ../../etc/passwd",
    # What COPY's text format would misread if a bulk's rows were not escaped.
    "note": "tab\there\nnew line\r\\N \\. \\\\ end",
}


@pytest.mark.parametrize("bulk", [False, True], ids=["single", "bulk"])
def test_unicode_and_injection_strings_are_stored_verbatim(
    operator_api: APIClient, bulk: bool
) -> None:
    body = push_body(payload=HOSTILE, idempotency_key="k\t\\N 🚀")
    if bulk:
        response = operator_api.post("/api/v1/leads/bulk", {"leads": [body]}, format="json")
    else:
        response = operator_api.post("/api/v1/leads", body, format="json")

    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert (lead.payload, lead.idempotency_key) == (HOSTILE, "k\t\\N 🚀")
    read = operator_api.get(f"/api/v1/leads/{lead.pk}").json()
    assert (read["payload"], read["idempotency_key"]) == (HOSTILE, "k\t\\N 🚀")


@pytest.mark.parametrize("bulk", [False, True], ids=["single", "bulk"])
def test_half_a_surrogate_pair_is_malformed_json_and_a_whole_pair_an_emoji(
    operator_api: APIClient, bulk: bool
) -> None:
    """`\\ud800` parses into a string PostgreSQL cannot store; it must never reach it."""
    prefix = "leads.0." if bulk else ""

    def post(raw: str) -> Any:
        body = f'{{"leads": [{raw}]}}' if bulk else raw
        path = "/api/v1/leads/bulk" if bulk else "/api/v1/leads"
        return operator_api.post(path, body, content_type="application/json")

    lone = post(
        '{"template": "order-confirmation", "phone": "+919812345678", "idempotency_key": "k",'
        ' "payload": {"customer_name": "A\\udfffB", "order_id": "A1", "order_total": "1"}}'
    )
    pair = post(
        '{"template": "order-confirmation", "phone": "+919812345678", "idempotency_key": "k",'
        ' "payload": {"customer_name": "A\\ud83d\\ude80B", "order_id": "A1", "order_total": "1"}}'
    )

    assert (lone.status_code, lone.json()) == (
        400,
        {
            "error": {
                "type": "parse_error",
                "message": f"JSON parse error - {prefix}payload.customer_name holds half of a "
                "surrogate pair (U+D800 to U+DFFF), which is not Unicode text.",
            }
        },
    )
    assert pair.status_code == 201, pair.content
    assert list(Lead.objects.values_list("payload__customer_name", flat=True)) == ["A🚀B"]


class TestIdempotency:
    def test_same_key_and_body_answers_200_with_the_first_lead(
        self, operator_api: APIClient
    ) -> None:
        body = push_body(idempotency_key="order-A1042")

        first = operator_api.post("/api/v1/leads", body, format="json")
        again = operator_api.post("/api/v1/leads", body, format="json")

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert Lead.objects.count() == 1

    def test_the_header_and_the_body_field_are_the_same_key(self, operator_api: APIClient) -> None:
        first = operator_api.post(
            "/api/v1/leads", push_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        again = operator_api.post("/api/v1/leads", push_body(idempotency_key="k-1"), format="json")

        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["idempotency_key"] == "k-1"
        assert again.json()["id"] == first.json()["id"]

    def test_same_key_with_another_body_is_a_conflict(self, operator_api: APIClient) -> None:
        operator_api.post("/api/v1/leads", push_body(idempotency_key="k-2"), format="json")

        response = operator_api.post(
            "/api/v1/leads",
            push_body(idempotency_key="k-2", phone="+919812345679"),
            format="json",
        )

        assert response.status_code == 409
        assert response.json() == {
            "error": {
                "type": "conflict",
                "message": "This idempotency key was used for a different lead.",
            }
        }
        assert Lead.objects.count() == 1

    def test_a_header_key_contradicting_the_body_key_is_refused(
        self, operator_api: APIClient
    ) -> None:
        response = operator_api.post(
            "/api/v1/leads",
            push_body(idempotency_key="a"),
            format="json",
            HTTP_IDEMPOTENCY_KEY="b",
        )

        assert error_fields(response) == [("idempotency_key", "invalid")]

    def test_keys_are_per_merchant(
        self,
        operator_api: APIClient,
        make_template: Callable[..., Template],
        tenants: Tenants,
        make_member: Callable[[str, Any], Any],
    ) -> None:
        make_template("order-confirmation", merchant=tenants.globex)
        globex_api = APIClient()
        globex_api.force_authenticate(user=make_member(Role.OPERATOR, tenants.globex))
        operator_api.post("/api/v1/leads", push_body(idempotency_key="k-3"), format="json")

        response = globex_api.post(
            "/api/v1/leads",
            push_body(idempotency_key="k-3", phone="+12015550123"),
            format="json",
        )

        assert response.status_code == 201
        assert Lead.objects.filter(idempotency_key="k-3").count() == 2


def test_a_viewer_may_not_push(api: Callable[[str], APIClient], order_template: Template) -> None:
    response = api(Role.VIEWER).post("/api/v1/leads", push_body(), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_denied"


def test_malformed_json_wrong_content_type_and_non_objects(operator_api: APIClient) -> None:
    broken = operator_api.post("/api/v1/leads", '{"phone": "+91', content_type="application/json")
    as_text = operator_api.post("/api/v1/leads", "phone=1", content_type="text/plain")
    a_list = operator_api.post("/api/v1/leads", [push_body()], format="json")

    assert (broken.status_code, broken.json()["error"]["type"]) == (400, "parse_error")
    assert (as_text.status_code, as_text.json()["error"]["type"]) == (
        415,
        "unsupported_media_type",
    )
    assert error_fields(a_list) == [("non_field_errors", "invalid")]


def test_a_due_lead_kicks_the_dispatcher_after_commit(
    operator_api: APIClient, django_capture_on_commit_callbacks: Any, settings: LazySettings
) -> None:
    settings.BREEZE_DISPATCH_KICK = True
    later = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    with django_capture_on_commit_callbacks() as later_callbacks:
        operator_api.post("/api/v1/leads", push_body(scheduled_at=later), format="json")
    assert later_callbacks == []

    with django_capture_on_commit_callbacks() as due_callbacks:
        operator_api.post("/api/v1/leads", push_body(), format="json")
    assert due_callbacks == [dispatch_due_leads.delay]


def test_nul_characters_are_refused_because_postgresql_cannot_store_them(
    operator_api: APIClient,
) -> None:
    payload = {**push_body()["payload"], "order_id": "A1\u00002"}

    response = operator_api.post(
        "/api/v1/leads",
        push_body(payload=payload, idempotency_key="k\u0000"),
        format="json",
    )

    assert response.status_code == 400
    assert sorted(error_fields(response)) == [
        ("idempotency_key", "null_character"),
        ("payload.order_id", "null_character"),
    ]


def test_a_payload_nested_past_the_json_limit_is_refused_before_any_check(
    operator_api: APIClient,
) -> None:
    """900 levels parse, but the recursive NUL check would hit Python's recursion limit."""
    body = json.dumps(push_body(payload={"deep": "X"})).replace('"X"', "[" * 900 + "]" * 900)

    response = operator_api.post("/api/v1/leads", body, content_type="application/json")

    assert (response.status_code, response.json()["error"]["type"]) == (400, "parse_error")
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("bulk", [False, True], ids=["single", "bulk"])
def test_a_number_too_large_for_a_float_is_malformed_json(
    operator_api: APIClient, bulk: bool
) -> None:
    """1e400 parses as infinity, which PostgreSQL's JSON cannot hold; 1.5e308 is kept."""
    body = json.dumps(push_body(payload={**push_body()["payload"], "big": "X", "ok": "Y"}))
    body = body.replace('"X"', "-1e400").replace('"Y"', "1.5e308")
    fine = body.replace("-1e400", "1")
    path = "/api/v1/leads/bulk" if bulk else "/api/v1/leads"
    if bulk:
        body, fine = f'{{"leads": [{body}]}}', f'{{"leads": [{fine}]}}'

    refused = operator_api.post(path, body, content_type="application/json")
    kept = operator_api.post(path, fine, content_type="application/json")

    assert (refused.status_code, refused.json()["error"]) == (
        400,
        {
            "type": "parse_error",
            "message": f"JSON parse error - {'leads.0.' if bulk else ''}payload.big holds a "
            "number too large for a float (over 1.8e308), which parses as infinity and cannot "
            "be stored.",
        },
    )
    assert kept.status_code == 201
    # JSONB keeps the number exactly and hands it back as an integer.
    assert list(Lead.objects.values_list("payload__ok", flat=True)) == [15 * 10**307]
