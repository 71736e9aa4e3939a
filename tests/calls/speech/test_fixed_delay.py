"""The fixed-delay speech providers the benchmarks use: built by name, only where allowed."""

from __future__ import annotations

import asyncio
import errno
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from calls.voice.speech import registry
from calls.voice.speech.exceptions import SpeechConfigError, UnknownProviderError
from calls.voice.speech.fixed_delay import (
    FixedDelayLLMService,
    FixedDelaySTTService,
    FixedDelayTTSService,
    _timerfd_at,
    reply_after,
)
from templates_app.pipecat_compat import (
    LLMContext,
    LLMContextFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    run_test,
)

RATE = 8000


def fixed(kind: str, **options: Any) -> dict[str, Any]:
    return {kind: {"provider": "fixed_delay", "options": options}}


def test_each_kind_is_built_by_name_with_its_options() -> None:
    stt = registry.build_stt(
        fixed("stt", delay_ms=120, text="hello"), credentials={}, sample_rate=RATE
    )
    tts = registry.build_tts(fixed("tts", audio_ms=300), credentials={}, sample_rate=RATE)
    llm = registry.build_llm(
        fixed("llm", delay_ms=0, text="Hi."), credentials={}, rules_factory=_no_rules
    )

    assert isinstance(stt, FixedDelaySTTService)
    assert isinstance(tts, FixedDelayTTSService)
    assert isinstance(llm, FixedDelayLLMService)


@override_settings(BREEZE_FIXED_DELAY_SPEECH=False)
def test_outside_benchmarks_and_tests_the_provider_does_not_exist() -> None:
    with pytest.raises(UnknownProviderError) as error:
        registry.build_tts(fixed("tts"), credentials={}, sample_rate=RATE)

    assert error.value.field == "tts.provider"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"delay_ms": -1}, "stt.options.delay_ms"),
        ({"delay_ms": True}, "stt.options.delay_ms"),
        ({"audio_ms": 1.5}, "stt.options.audio_ms"),
        ({"text": "  "}, "stt.options.text"),
        ({"voice": "x"}, "stt.options.voice"),
    ],
)
def test_bad_options_name_their_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(SpeechConfigError) as error:
        registry.build_stt(fixed("stt", **options), credentials={}, sample_rate=RATE)

    assert error.value.field == field


async def test_stt_hears_every_segment_as_its_text_after_the_delay() -> None:
    stt = registry.build_stt(
        fixed("stt", delay_ms=60, text="yes please"), credentials={}, sample_rate=RATE
    )

    started = time.monotonic()
    frames = [frame async for frame in stt.run_stt(b"any segment")]

    assert time.monotonic() - started >= 0.06
    assert len(frames) == 1
    assert isinstance(frames[0], TranscriptionFrame)
    assert frames[0].text == "yes please"


async def test_tts_speaks_a_tone_of_the_set_length_after_the_delay() -> None:
    tts = registry.build_tts(
        fixed("tts", delay_ms=80, audio_ms=300), credentials={}, sample_rate=RATE
    )

    started = time.monotonic()
    down, _ = await run_test(tts, frames_to_send=[TTSSpeakFrame("anything at all")])

    audio = [frame for frame in down if isinstance(frame, TTSAudioRawFrame)]
    assert time.monotonic() - started >= 0.08
    assert [len(frame.audio) for frame in audio] == [320] * 15
    assert {frame.sample_rate for frame in audio} == {RATE}
    assert (
        max(
            abs(int.from_bytes(audio[0].audio[i : i + 2], "little", signed=True))
            for i in range(0, 320, 2)
        )
        > 7000
    )


async def test_llm_answers_every_context_with_its_text_after_the_delay() -> None:
    llm = registry.build_llm(
        fixed("llm", delay_ms=50, text="Say again?"), credentials={}, rules_factory=_no_rules
    )

    started = time.monotonic()
    down, _ = await run_test(llm, frames_to_send=[LLMContextFrame(LLMContext())])

    assert time.monotonic() - started >= 0.05
    assert [frame.text for frame in down if isinstance(frame, LLMTextFrame)] == ["Say again?"]


def _no_rules() -> Any:
    raise AssertionError("a fixed-delay LLM does not use the rules engine")


async def test_a_reply_is_never_early() -> None:
    waits = []
    for secs in (0.0, 0.001, 0.02):
        started = time.monotonic()
        await reply_after(secs)
        waits.append(time.monotonic() - started >= secs)

    assert waits == [True, True, True]


async def test_a_cancelled_wait_leaves_no_timer_behind() -> None:
    before = _open_fds()
    waiting = asyncio.create_task(reply_after(30))
    await asyncio.sleep(0.01)
    during = _open_fds()

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    assert (len(during - before), _open_fds()) == (1, before)


def test_a_timer_the_kernel_refuses_is_an_error_and_leaves_no_descriptor() -> None:
    before = _open_fds()

    with pytest.raises(OSError, match="timerfd_settime") as refused:
        _timerfd_at(-0.5)  # a negative time: timerfd_settime answers EINVAL

    assert (refused.value.errno, _open_fds()) == (errno.EINVAL, before)


def _open_fds() -> set[str]:
    return {fd.name for fd in Path("/proc/self/fd").iterdir()}
