"""The node-driven turn strategies: barge-in, min words and input collection per node."""

from __future__ import annotations

from typing import Any

import pytest

from calls.voice.turns import NodeTurnSettings, NodeTurnStart
from templates_app.pipecat_compat import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InterimTranscriptionFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
)


class Events:
    def __init__(self, strategy: NodeTurnStart) -> None:
        self.started: list[bool] = []
        self.resets = 0
        strategy.add_event_handler("on_user_turn_started", self._started)
        strategy.add_event_handler("on_reset_aggregation", self._reset)

    async def _started(self, _strategy: Any, params: Any) -> None:
        self.started.append(params.enable_interruptions)

    async def _reset(self, _strategy: Any) -> None:
        self.resets += 1


async def _feed(strategy: NodeTurnStart, *frames: Frame) -> list[str]:
    return [(await strategy.process_frame(frame)).value for frame in frames]


def _text(text: str) -> TranscriptionFrame:
    return TranscriptionFrame(text=text, user_id="customer", timestamp="t")


@pytest.mark.parametrize(
    ("interruption", "interrupts"),
    [({"mode": "enabled"}, True), ({"mode": "disabled"}, False), ({}, True)],
)
async def test_speech_over_the_bot_interrupts_only_where_the_node_allows(
    interruption: dict[str, Any], interrupts: bool
) -> None:
    strategy = NodeTurnStart()
    strategy.configure(interruption)
    events = Events(strategy)

    results = await _feed(strategy, BotStartedSpeakingFrame(), VADUserStartedSpeakingFrame())

    assert results == ["continue", "stop"]
    assert events.started == [interrupts]


async def test_speech_while_the_bot_is_quiet_starts_a_turn_in_every_mode() -> None:
    strategy = NodeTurnStart()
    strategy.configure({"mode": "disabled"})
    events = Events(strategy)

    await _feed(
        strategy,
        BotStartedSpeakingFrame(),
        BotStoppedSpeakingFrame(),
        VADUserStartedSpeakingFrame(),
    )

    assert events.started == [True]


async def test_min_words_drops_backchannel_and_interrupts_on_enough_words() -> None:
    strategy = NodeTurnStart()
    strategy.configure({"mode": "enabled", "min_words": 3})
    events = Events(strategy)

    results = await _feed(
        strategy,
        BotStartedSpeakingFrame(),
        VADUserStartedSpeakingFrame(),
        InterimTranscriptionFrame(text="uh huh", user_id="customer", timestamp="t"),
        _text("no stop please"),
    )

    assert results == ["continue", "continue", "continue", "stop"]
    assert events.resets == 1
    assert events.started == [True]


async def test_a_node_without_overrides_gets_the_template_settings_back() -> None:
    turns = NodeTurnSettings()
    template = {
        "interruption": {"mode": "enabled", "min_words": 1},
        "input_collection": {"enabled": False, "user_speech_timeout": 2.0},
    }
    node_a = {
        "interruption": {"mode": "disabled", "min_words": 4},
        "input_collection": {"enabled": True, "user_speech_timeout": 2.5},
    }
    seen = []
    for settings in (template, node_a, template):
        turns.apply(settings)
        seen.append((turns.start.barge_in, turns.start.min_words, turns.stop.user_speech_timeout))

    assert seen == [(True, 1, 0.0), (False, 4, 2.5), (True, 1, 0.0)]
