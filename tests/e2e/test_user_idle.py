"""A silent customer over the real media path: idle prompts, retries, then the bot ends the call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from calls.models import Call
from telephony.providers.simulator.audio import rms
from telephony.providers.simulator.persona import Persona, Step
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, new_call, place, published_template

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

QUESTION = "Shall we deliver your order today?"
IDLE = "Hello, are you still there?"
IDLE_DEFINITION: dict[str, Any] = {
    "schema_version": 1,
    "initial_node": "ask",
    "user_idle": {"enabled": True, "timeout": 2, "message": IDLE, "retries": 2},
    "nodes": [
        {
            "name": "ask",
            "task_messages": [QUESTION],
            "say": QUESTION,
            "functions": [
                {
                    "name": "agreed",
                    "description": "The customer agrees.",
                    "examples": ["yes"],
                    "transition_to": "done",
                }
            ],
        },
        {
            "name": "done",
            "task_messages": ["Say goodbye."],
            "say": "Goodbye.",
            "post_actions": [{"type": "end_conversation"}],
        },
    ],
}


def test_a_silent_customer_is_prompted_then_the_bot_ends_the_call(
    stack: Stack, tenants: Tenants
) -> None:
    call = new_call(published_template(tenants.acme, "idle", IDLE_DEFINITION))
    silent = Persona(
        name="silent",
        description="Answers and never speaks.",
        steps=(Step(silence_ms=40_000, wait_for_bot=False),),
        max_call_seconds=45,
    )

    ended, result = asyncio.run(place(stack, call, silent))

    assert result.errors == []
    assert result.hung_up_by == "bot"
    assert (ended.disposition, ended.end_reason) == (Call.Disposition.ANSWERED, "customer_idle")
    bot = list(ended.turns.filter(speaker="bot").order_by("index").values_list("text", flat=True))
    assert bot == [QUESTION, IDLE, IDLE]
    assert not ended.turns.filter(speaker="customer").exists()
    # Pipecat ends a call with two seconds of silence on the line; the rest is speech.
    *spoken, line_end = result.bot_turns
    assert (len(spoken), rms(line_end.pcm)) == (3, 0.0)
    # Each prompt, and then the end, waits out the idle timeout after the bot fell silent
    # (the relay sends audio slightly ahead of playback, hence 1.9).
    starts = [turn.start for turn in [*spoken[1:], line_end]]
    gaps = [start - turn.end for start, turn in zip(starts, spoken, strict=True)]
    assert all(1.9 <= gap < 3.5 for gap in gaps), gaps
