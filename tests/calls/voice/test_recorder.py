"""Turns and answer latency recorded from a call's frames."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from calls.voice import recorder as recorder_module
from calls.voice.recorder import CallRecorder, TurnRecord
from templates_app.pipecat_compat import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    FunctionCallInProgressFrame,
    LLMFullResponseEndFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    VADUserStoppedSpeakingFrame,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(recorder_module.time, "monotonic", fake)  # type: ignore[attr-defined]
    return fake


async def _feed(recorder: CallRecorder, clock: Clock, *events: tuple[float, object]) -> None:
    for at, frame in events:
        clock.now = 100.0 + at
        await recorder.on_push_frame(SimpleNamespace(frame=frame))  # type: ignore[arg-type]


async def test_turns_and_latency_of_an_answer(clock: Clock) -> None:
    turns: list[TurnRecord] = []
    node = {"name": "confirm_order"}
    recorder = CallRecorder(current_node=lambda: node["name"], on_turn=turns.append)
    audio = TTSAudioRawFrame(audio=b"\x00" * 320, sample_rate=8000, num_channels=1)

    await _feed(
        recorder,
        clock,
        (0.0, TTSSpeakFrame(text="Shall we deliver it?")),
        (0.1, BotStartedSpeakingFrame()),
        (2.0, BotStoppedSpeakingFrame()),
        (3.0, VADUserStoppedSpeakingFrame()),
        (3.1, TranscriptionFrame(text="yes please", user_id="customer", timestamp="t")),
        (
            3.15,
            FunctionCallInProgressFrame(
                function_name="confirm_order", tool_call_id="rules-1", arguments={}
            ),
        ),
        (3.2, LLMTextFrame(text="Thank you! ")),
        (3.2, LLMTextFrame(text="Goodbye.")),
        (3.2, LLMFullResponseEndFrame()),
        (3.5, audio),
        (3.6, BotStartedSpeakingFrame()),
        (3.6, BotStartedSpeakingFrame()),  # the upstream copy
        (5.0, BotStoppedSpeakingFrame()),
        (5.0, BotStoppedSpeakingFrame()),
    )

    assert [(t.speaker, t.text, t.function_called) for t in turns] == [
        ("bot", "Shall we deliver it?", ""),
        ("customer", "yes please", "confirm_order"),
        ("bot", "Thank you! Goodbye.", ""),
    ]
    assert turns[2].latency == {"total_ms": 600, "stt_ms": 100, "llm_ms": 50, "tts_ms": 350}
    assert (turns[2].started_offset_ms, turns[2].ended_offset_ms) == (3600, 5000)
    assert turns[0].latency == {}


async def test_a_customer_talking_over_the_bot_comes_after_the_interrupted_turn(
    clock: Clock,
) -> None:
    turns: list[TurnRecord] = []
    recorder = CallRecorder(current_node=lambda: "pitch", on_turn=turns.append)

    await _feed(
        recorder,
        clock,
        (0.0, TTSSpeakFrame(text="Would you like it?")),
        (0.1, BotStartedSpeakingFrame()),
        (1.0, VADUserStoppedSpeakingFrame()),
        (1.1, TranscriptionFrame(text="yes", user_id="customer", timestamp="t")),
        (2.0, BotStoppedSpeakingFrame()),
        (2.1, LLMTextFrame(text="Great.")),
        (2.1, LLMFullResponseEndFrame()),
        (2.4, BotStartedSpeakingFrame()),
        (3.0, BotStoppedSpeakingFrame()),
    )

    assert [(t.speaker, t.text) for t in turns] == [
        ("bot", "Would you like it?"),
        ("customer", "yes"),
        ("bot", "Great."),
    ]
    assert turns[2].latency["total_ms"] == 1400


async def test_finish_stores_what_was_said_when_the_call_ends_mid_turn(clock: Clock) -> None:
    turns: list[TurnRecord] = []
    recorder = CallRecorder(current_node=lambda: "n", on_turn=turns.append)
    await _feed(
        recorder, clock, (0.5, TranscriptionFrame(text="hello?", user_id="customer", timestamp="t"))
    )

    recorder.finish()

    assert [(t.speaker, t.text) for t in turns] == [("customer", "hello?")]
