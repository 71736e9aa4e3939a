""" "Press 1 to confirm" over the real media path: a Twilio `dtmf` event calls a flow function."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from calls.models import Call
from telephony.providers.simulator.persona import Persona, Step
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, new_call, place, published_template

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


def _outcome_function(name: str, keys: str, outcome: str, then: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"The customer wants the order {outcome}.",
        "dtmf": keys,
        "transition_to": then,
        "hooks": [{"type": "update_outcome", "outcome": outcome}],
    }


def _goodbye(name: str, say: str) -> dict[str, Any]:
    return {
        "name": name,
        "task_messages": [say],
        "say": say,
        "post_actions": [{"type": "end_conversation"}],
    }


KEYPAD_DEFINITION: dict[str, Any] = {
    "schema_version": 1,
    "initial_node": "ask",
    "user_idle": {"enabled": False},
    "outcomes": [{"name": "confirmed"}, {"name": "cancelled"}],
    "nodes": [
        {
            "name": "ask",
            "task_messages": ["Ask them to press 1 to confirm or 2 to cancel."],
            "say": "Press 1 to confirm your order, or 2 to cancel it.",
            "functions": [
                _outcome_function("confirm", "1", "confirmed", "confirmed"),
                _outcome_function("cancel", "2", "cancelled", "cancelled"),
            ],
        },
        _goodbye("confirmed", "Your order is confirmed. Goodbye."),
        _goodbye("cancelled", "Your order is cancelled. Goodbye."),
    ],
}


def test_pressing_1_confirms_the_order(stack: Stack, tenants: Tenants) -> None:
    call = new_call(published_template(tenants.acme, "press-one", KEYPAD_DEFINITION))
    presses_one = Persona(name="presses-one", description="Presses 1.", steps=(Step(dtmf="1"),))

    ended, result = asyncio.run(place(stack, call, presses_one))

    assert result.errors == []
    assert (ended.outcome, ended.node_path) == ("confirmed", ["ask", "confirmed"])
    assert (ended.disposition, ended.end_reason) == (Call.Disposition.ANSWERED, "bot_ended")
    customer = list(ended.turns.filter(speaker="customer").values_list("text", "function_called"))
    assert customer == [("DTMF: 1", "confirm")]
    assert len(result.bot_turns) == 2
