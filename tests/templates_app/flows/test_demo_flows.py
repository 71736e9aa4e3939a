"""Every path through each demo template, run as a real Pipecat flow driven by the rules engine."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from config.call_config import EffectiveConfig
from templates_app.demo import demo_definition
from templates_app.flows.conversation import Conversation, converse
from templates_app.flows.factory import FlowInputs
from tests.demo_payloads import DEMO_PAYLOADS

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata"))  # a Wednesday
TEMPLATE_VAD = {"confidence": 0.6, "start_secs": 0.15, "stop_secs": 0.8, "min_volume": 0.4}


def _inputs(slug: str) -> FlowInputs:
    definition = demo_definition(slug)
    base = {key: definition[key] for key in ("vad", "interruption") if key in definition}
    variables = {
        **DEMO_PAYLOADS[slug],
        "merchant_name": "Acme Retail",
        "customer_phone": "+15555550123",
        "call_id": "7",
    }
    return FlowInputs(
        definition=definition, variables=variables, config=EffectiveConfig(base=base, playground={})
    )


async def _talk(slug: str, turns: list[str]) -> Conversation:
    return await converse(_inputs(slug), turns=turns, clock=NOW)


def _functions(conversation: Conversation) -> list[str]:
    return [
        event.detail["function"] for event in conversation.events if event.kind == "function_called"
    ]


ORDER_OPENING = [
    "Hi Asha, this is Breeze calling on behalf of Acme Retail.",
    "I'm calling about your cash on delivery order A1042 of 1,499 rupees. Shall we go ahead and deliver it?",
]


@pytest.mark.parametrize(
    ("_case", "turns", "replies", "nodes", "outcome", "fields"),
    [
        (
            "confirm",
            ["yes please"],
            ["Thank you! Your order A1042 will be delivered as planned. Goodbye."],
            ["confirm_order", "order_confirmed"],
            "confirmed",
            {"confirmed_via": "voice"},
        ),
        (
            "cancel with a reason",
            ["please cancel it", "I found it cheaper elsewhere"],
            [
                "Sorry to hear that. May I ask why you would like to cancel?",
                "Your order A1042 has been cancelled. Thank you for letting us know. Goodbye.",
            ],
            ["confirm_order", "cancel_reason", "order_cancelled"],
            "cancelled",
            {"reason": "I found it cheaper elsewhere"},
        ),
        (
            "reschedule after a re-prompt",
            ["hmm", "not today", "next friday"],
            [
                "Sorry, I didn't catch that. Could you say it another way?",
                "Sure. Which day would suit you for delivery?",
                "Done, your delivery has been rescheduled. Goodbye.",
            ],
            ["confirm_order", "reschedule", "delivery_rescheduled"],
            "rescheduled",
            {"delivery_date": "2026-11-27"},
        ),
        (
            "ask for a human",
            ["can I speak to a person"],
            ["Let me connect you to a colleague."],
            ["confirm_order", "__end__"],
            "human_requested",
            {},
        ),
    ],
)
async def test_order_confirmation_paths(
    _case: str,
    turns: list[str],
    replies: list[str],
    nodes: list[str],
    outcome: str,
    fields: dict[str, Any],
) -> None:
    conversation = await _talk("order-confirmation", turns)

    assert conversation.bot_lines == ORDER_OPENING + replies
    assert conversation.nodes == nodes
    assert (conversation.outcome, conversation.outcome_fields) == (outcome, fields)
    assert conversation.ended is True


async def test_asking_for_a_human_requests_a_transfer_to_the_template_number() -> None:
    conversation = await _talk("order-confirmation", ["agent please"])

    transfers = [
        event.detail for event in conversation.events if event.kind == "transfer_requested"
    ]
    assert transfers == [{"number": "+15555550100"}]
    assert _functions(conversation) == ["talk_to_human"]


@pytest.mark.parametrize(
    ("_case", "turns", "last_reply", "nodes", "outcome", "fields"),
    [
        (
            "buys",
            ["yes I will buy it"],
            "Wonderful. Use the code SAVE10 at checkout for ten percent off. Goodbye!",
            ["pitch", "offer_discount"],
            "will_purchase",
            {"discount_code": "SAVE10"},
        ),
        (
            "not interested",
            ["no thanks", "too expensive"],
            "Thank you for your time. Goodbye!",
            ["pitch", "ask_reason", "goodbye"],
            "not_interested",
            {"reason": "too expensive"},
        ),
        (
            "call later",
            ["call me later", "at 5 pm"],
            "Thank you for your time. Goodbye!",
            ["pitch", "callback_time", "goodbye"],
            "callback_requested",
            {"callback_time": "17:00"},
        ),
        ("hangs up", ["stop calling me"], "Understood. Goodbye.", ["pitch", "__end__"], None, {}),
    ],
)
async def test_abandoned_cart_paths(
    _case: str,
    turns: list[str],
    last_reply: str,
    nodes: list[str],
    outcome: str | None,
    fields: dict[str, Any],
) -> None:
    conversation = await _talk("abandoned-cart", turns)

    assert conversation.bot_lines[:2] == [
        "Hi Ravi, this is Breeze from Acme Retail.",
        "You left running shoes in your cart. Would you like to complete your purchase?",
    ]
    assert conversation.bot_lines[-1] == last_reply
    assert conversation.nodes == nodes
    assert (conversation.outcome, conversation.outcome_fields) == (outcome, fields)
    assert conversation.ended is True


@pytest.mark.parametrize(
    ("_case", "turns", "nodes", "outcome", "fields"),
    [
        (
            "confirmed",
            ["yes that is correct"],
            ["verify_address", "thanks"],
            "address_confirmed",
            {},
        ),
        (
            "corrected",
            ["no", "14 Hill Street, Pune 411002"],
            ["verify_address", "collect_address", "thanks_corrected"],
            "address_corrected",
            {"corrected_address": "14 Hill Street, Pune 411002"},
        ),
        ("wrong person", ["wrong number"], ["verify_address", "wrong_number"], "wrong_number", {}),
    ],
)
async def test_address_verification_paths(
    _case: str, turns: list[str], nodes: list[str], outcome: str, fields: dict[str, Any]
) -> None:
    conversation = await _talk("address-verification", turns)

    assert (
        conversation.bot_lines[1]
        == "We have your delivery address as 12 Lake Road, Pune, 411001. Is that correct?"
    )
    assert conversation.nodes == nodes
    assert (conversation.outcome, conversation.outcome_fields) == (outcome, fields)
    assert conversation.ended is True


async def test_node_settings_are_reset_to_the_template_on_every_transition() -> None:
    conversation = await _talk("order-confirmation", ["not today", "tomorrow"])

    settings = {
        event.detail["node"]: event.detail["settings"]
        for event in conversation.events
        if event.kind == "node_entered"
    }
    assert settings["confirm_order"]["interruption"] == {"mode": "disabled", "min_words": 2}
    assert settings["reschedule"]["interruption"] == {"mode": "enabled", "min_words": 2}
    assert settings["reschedule"]["vad"] == {**TEMPLATE_VAD, "stop_secs": 1.2}
    assert settings["reschedule"]["input_collection"] == {
        "enabled": True,
        "user_speech_timeout": 1.5,
    }
    assert settings["delivery_rescheduled"]["vad"] == TEMPLATE_VAD
    assert "input_collection" not in settings["delivery_rescheduled"]


async def test_the_transcript_interleaves_both_sides_in_order() -> None:
    conversation = await _talk("order-confirmation", ["hmm", "yes"])

    assert conversation.transcript == [
        ("bot", ORDER_OPENING[0]),
        ("bot", ORDER_OPENING[1]),
        ("customer", "hmm"),
        ("bot", "Sorry, I didn't catch that. Could you say it another way?"),
        ("customer", "yes"),
        ("bot", "Thank you! Your order A1042 will be delivered as planned. Goodbye."),
    ]
