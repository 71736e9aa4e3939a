"""Per-node interruption over the real media path: reset to the template on every node.

The customer talks over the bot in three nodes in a row. The first forbids interruption, the
second has no overrides (so the template's "enabled" must be back), the third allows it with
its own VAD.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from calls.models import Call
from telephony.providers.simulator.persona import Persona, Step
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, new_call, place, published_template

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


def _node(name: str, say: str, then: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "task_messages": [say],
        "say": say,
        "functions": [
            {
                "name": f"{name}_agreed",
                "description": "The customer agrees.",
                "transition_to": then,
                "examples": ["yes please"],
            }
        ],
        **overrides,
    }


DEFINITION: dict[str, Any] = {
    "schema_version": 1,
    "initial_node": "disclosure",
    "interruption": {"mode": "enabled", "min_words": 1},
    "user_idle": {"enabled": False},
    "nodes": [
        # A long VAD stop keeps the (uninterrupted) reply apart from this node's own turn.
        _node(
            "disclosure",
            "This call is recorded. Shall we continue?",
            "questions",
            interruption={"mode": "disabled"},
            vad={"stop_secs": 2.5},
        ),
        _node(
            "questions",
            "Great. I have a few short questions about your recent delivery. Shall we start?",
            "survey",
        ),
        _node(
            "survey",
            "Thank you. Please rate your delivery today from one to five. Are you ready?",
            "goodbye",
            interruption={"mode": "enabled", "min_words": 1},
            vad={"stop_secs": 0.5},
        ),
        {
            "name": "goodbye",
            "task_messages": ["Say goodbye."],
            "say": "Thank you for your time. Goodbye.",
            "post_actions": [{"type": "end_conversation"}],
        },
    ],
}

# Each step talks over the next bot turn that starts after the previous step began.
TALKS_OVER_EVERY_NODE = Persona(
    name="talks-over",
    description="Says yes 300 ms into every question.",
    steps=tuple(Step(say="yes please", barge_in=True, wait_for_bot=False) for _ in range(3)),
    max_call_seconds=60,
)


def test_barge_in_follows_each_node_and_nothing_bleeds(stack: Stack, tenants: Tenants) -> None:
    version = published_template(tenants.acme, "barge-in-per-node", DEFINITION)
    call = new_call(version)

    ended, result = asyncio.run(place(stack, call, TALKS_OVER_EVERY_NODE))

    assert result.errors == []
    assert ended.node_path == ["disclosure", "questions", "survey", "goodbye"]
    assert (ended.disposition, ended.end_reason) == (Call.Disposition.ANSWERED, "bot_ended")
    # disclosure plays to the end; questions and survey are cut off by the customer.
    assert [turn.interrupted for turn in result.bot_turns] == [False, True, True, False]
    assert result.cleared == 2
    customer = list(
        ended.turns.filter(speaker="customer").order_by("index").values_list("node", "text")
    )
    assert customer == [
        ("disclosure", "yes please"),
        ("questions", "yes please"),
        ("survey", "yes please"),
    ]
