from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from calls.models import Call
from calls.services import (
    call_create,
    call_end,
    call_mark_in_progress,
    call_record_llm_fallback,
    call_record_node,
    call_record_turn,
    call_update_outcome,
)
from config.models import Membership
from templates_app.models import Template
from templates_app.services import template_load_demos
from tests.calls.conftest import ORDER_PAYLOAD
from tests.conftest import Tenants

Role = Membership.Role


def _finished_call(call: Call) -> Call:
    call_mark_in_progress(call_id=call.pk, worker_id="w1")
    call_record_node(call_id=call.pk, node="confirm_order")
    call_record_node(call_id=call.pk, node="order_confirmed")
    call_record_turn(
        call_id=call.pk, index=0, speaker="bot", text="Shall we deliver it?", node="confirm_order"
    )
    call_record_turn(
        call_id=call.pk,
        index=1,
        speaker="customer",
        text="yes please",
        node="confirm_order",
        function_called="confirm_order",
    )
    call_record_turn(
        call_id=call.pk,
        index=2,
        speaker="bot",
        text="Thank you! Goodbye.",
        node="order_confirmed",
        latency={"total_ms": 612, "stt_ms": 90, "llm_ms": 4, "tts_ms": 310},
    )
    call_update_outcome(call_id=call.pk, outcome="confirmed", fields={"confirmed_via": "voice"})
    call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")
    return Call.objects.get(pk=call.pk)


def test_call_detail_shows_the_conversation_path_outcome_and_latency(
    call: Call, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    finished = _finished_call(call)
    client = login(member_of_acme(Role.VIEWER))

    listing = client.get(reverse("admin:calls_call_changelist"))
    detail = client.get(reverse("admin:calls_call_change", args=[finished.pk])).content.decode()

    assert [row.pk for row in listing.context["cl"].result_list] == [finished.pk]
    assert "612 ms" in listing.content.decode()
    assert "confirm_order → order_confirmed" in detail
    assert "yes please" in detail
    assert "→ confirm_order" in detail
    assert "<td>2</td><td>612</td><td>90</td><td>4</td><td>310</td>" in detail
    assert "<th>confirmed_via</th><td>voice</td>" in detail


def test_call_detail_says_why_the_rules_engine_took_over_from_the_llm(
    call: Call, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    reason = "openai failed in node confirm_order: LLM completion timeout"
    assert call_record_llm_fallback(call_id=call.pk, reason=reason) is True
    # The first switch stands; a call falls back once.
    assert call_record_llm_fallback(call_id=call.pk, reason="later") is False
    client = login(member_of_acme(Role.VIEWER))

    detail = client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()

    assert Call.objects.get(pk=call.pk).llm_fallback_reason == reason
    assert f'<div class="readonly">{reason}</div>' in detail


def test_other_merchants_calls_are_invisible_and_calls_are_read_only(
    tenants: Tenants,
    call: Call,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    template_load_demos(merchant=tenants.globex)
    theirs = call_create(
        version=Template.objects.get(
            merchant=tenants.globex, slug="order-confirmation"
        ).versions.get(),
        execution_mode="TELEPHONY_TEST",
        provider="simulator",
        payload=ORDER_PAYLOAD,
    )
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    listing = client.get(reverse("admin:calls_call_changelist"))
    foreign = client.get(reverse("admin:calls_call_change", args=[theirs.pk]))
    edit = client.post(reverse("admin:calls_call_change", args=[call.pk]), {"outcome": "forged"})

    assert [row.pk for row in listing.context["cl"].result_list] == [call.pk]
    assert foreign.status_code == 302
    assert edit.status_code == 403
    assert Call.objects.get(pk=call.pk).outcome == ""
