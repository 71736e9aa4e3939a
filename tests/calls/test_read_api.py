"""Call reads over the API: filters, transcript, outcome and latency, scoped by merchant."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from calls.models import Call, Turn
from calls.selectors import LatencySummary, call_latency_summary
from calls.services import (
    call_create,
    call_end,
    call_record_llm_fallback,
    call_record_turn,
    call_update_outcome,
)
from config.models import Membership
from templates_app.models import Template, TemplateVersion
from templates_app.services import template_load_demos
from tests.calls.conftest import ORDER_PAYLOAD
from tests.conftest import Tenants

Role = Membership.Role
pytestmark = pytest.mark.django_db


def _as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def globex_call(tenants: Tenants) -> Call:
    template_load_demos(merchant=tenants.globex)
    version = Template.objects.get(
        merchant=tenants.globex, slug="order-confirmation"
    ).versions.get()
    return call_create(
        version=version,
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider="simulator",
        customer_phone="+15555550999",
        payload=ORDER_PAYLOAD,
    )


@pytest.fixture
def finished_call(call: Call) -> Call:
    call_record_turn(call_id=call.pk, index=0, speaker="bot", text="Hello, this is Acme.")
    call_record_turn(call_id=call.pk, index=1, speaker="customer", text="Yes, <b>me</b>'; --")
    for index, total in ((2, 900), (4, 700), (6, 1500)):
        call_record_turn(
            call_id=call.pk,
            index=index,
            speaker="bot",
            text=f"answer {index}",
            node="confirm",
            latency={"total_ms": total, "stt_ms": 100, "llm_ms": total - 300, "tts_ms": 200},
        )
    call_update_outcome(call_id=call.pk, outcome="confirmed", fields={"order_id": "A-1"})
    call_end(call_id=call.pk, disposition=Call.Disposition.ANSWERED, end_reason="completed")
    return call


def test_detail_shows_the_transcript_outcome_and_latency(
    finished_call: Call, member_of_acme: Callable[[str], User]
) -> None:
    body = _as(member_of_acme(Role.VIEWER)).get(f"/api/v1/calls/{finished_call.pk}").json()

    assert [(t["index"], t["speaker"], t["text"]) for t in body["turns"]] == [
        (0, "bot", "Hello, this is Acme."),
        (1, "customer", "Yes, <b>me</b>'; --"),
        (2, "bot", "answer 2"),
        (4, "bot", "answer 4"),
        (6, "bot", "answer 6"),
    ]
    assert (body["status"], body["disposition"], body["outcome"]) == (
        "ended",
        "answered",
        "confirmed",
    )
    assert body["outcome_fields"] == {"order_id": "A-1"}
    assert body["template"] == "order-confirmation"
    assert body["template_version"] == 1
    assert body["latency"] == {
        "answers": 3,
        "median_ms": 900,
        "p95_ms": 1500,
        "max_ms": 1500,
        "stt_median_ms": 100,
        "llm_median_ms": 600,
        "tts_median_ms": 200,
    }
    assert "media_token_nonce" not in body
    assert "worker_id" not in body
    assert (body["llm_fallback_at"], body["llm_fallback_reason"]) == (None, "")


def test_detail_says_when_and_why_the_rules_engine_took_over(
    call: Call, member_of_acme: Callable[[str], User]
) -> None:
    call_record_llm_fallback(call_id=call.pk, reason="timeout: no answer within 5 s")
    switched = Call.objects.get(pk=call.pk).llm_fallback_at
    assert switched is not None

    body = _as(member_of_acme(Role.VIEWER)).get(f"/api/v1/calls/{call.pk}").json()

    assert (body["llm_fallback_at"], body["llm_fallback_reason"]) == (
        switched.isoformat().replace("+00:00", "Z"),
        "timeout: no answer within 5 s",
    )


def test_a_call_without_measured_answers_has_an_empty_summary() -> None:
    assert call_latency_summary(turns=[Turn(index=0, speaker="bot", text="hi")]) == (
        LatencySummary(
            answers=0,
            median_ms=None,
            p95_ms=None,
            max_ms=None,
            stt_median_ms=None,
            llm_median_ms=None,
            tts_median_ms=None,
        )
    )


def test_p95_is_the_nearest_rank() -> None:
    turns = [Turn(latency_ms=ms) for ms in range(100, 2100, 100)]  # 20 answers

    summary = call_latency_summary(turns=turns)

    assert (summary.median_ms, summary.p95_ms, summary.max_ms) == (1050, 1900, 2000)


def test_the_list_filters_and_hides_other_merchants(
    finished_call: Call,
    published: TemplateVersion,
    globex_call: Call,
    member_of_acme: Callable[[str], User],
) -> None:
    queued = call_create(
        version=published,
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider="simulator",
        customer_phone="+15555550777",
        payload=ORDER_PAYLOAD,
    )
    client = _as(member_of_acme(Role.OPERATOR))

    def ids(**params: str) -> list[int]:
        response = client.get("/api/v1/calls", params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [queued.pk, finished_call.pk]
    assert ids(status="ended") == [finished_call.pk]
    assert ids(disposition="answered", outcome="confirmed") == [finished_call.pk]
    assert ids(phone="+15555550777") == [queued.pk]
    assert ids(template="order-confirmation") == [queued.pk, finished_call.pk]
    assert ids(template=str(published.template_id)) == [queued.pk, finished_call.pk]
    assert ids(template="abandoned-cart") == []
    assert ids(created_after=queued.created_at.isoformat()) == [queued.pk]
    assert ids(phone=globex_call.customer_phone) == []


def test_a_bad_filter_names_the_field(call: Call, member_of_acme: Callable[[str], User]) -> None:
    response = _as(member_of_acme(Role.VIEWER)).get("/api/v1/calls", {"status": "lost"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == [
        {"field": "status", "code": "invalid_choice", "message": '"lost" is not a valid choice.'}
    ]


def test_another_merchants_call_is_not_found(
    globex_call: Call, member_of_acme: Callable[[str], User]
) -> None:
    response = _as(member_of_acme(Role.MERCHANT_ADMIN)).get(f"/api/v1/calls/{globex_call.pk}")

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
