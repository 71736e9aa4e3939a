"""A simulated call whose OpenAI endpoint is unreachable is held to the end by the rules engine."""

from __future__ import annotations

import asyncio

import pytest

from calls.models import Call
from config.services import provider_credential_create
from telephony.providers.simulator.persona import Persona, Step
from tests.conftest import Tenants, free_port
from tests.e2e.conftest import Stack, new_call, place, published_template
from tests.e2e.test_keypad import KEYPAD_DEFINITION

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


def test_a_call_with_an_unreachable_llm_is_answered_by_the_rules_engine(
    stack: Stack, tenants: Tenants
) -> None:
    provider_credential_create(
        merchant=tenants.acme,
        provider="openai",
        secrets={"api_key": "sk-e2e", "base_url": f"http://127.0.0.1:{free_port()}/v1"},
    )
    definition = {**KEYPAD_DEFINITION, "llm": {"provider": "openai", "model": "gpt-4o-mini"}}
    call = new_call(published_template(tenants.acme, "press-one-llm", definition))
    presses_one = Persona(name="presses-one", description="Presses 1.", steps=(Step(dtmf="1"),))

    ended, result = asyncio.run(place(stack, call, presses_one))

    assert result.errors == []
    assert (ended.outcome, ended.node_path) == ("confirmed", ["ask", "confirmed"])
    assert (ended.disposition, ended.end_reason) == (Call.Disposition.ANSWERED, "bot_ended")
    bot = list(ended.turns.filter(speaker="bot").values_list("text", flat=True))
    assert bot == [
        "Press 1 to confirm your order, or 2 to cancel it.",
        "Your order is confirmed. Goodbye.",
    ]
    assert ended.llm_fallback_reason == (
        "openai failed in node ask: Error during completion: Connection error."
    )
