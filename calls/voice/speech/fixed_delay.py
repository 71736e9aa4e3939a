"""Speech services that take a fixed time and do no work: for benchmarks and tests only.

With them in place of real STT, LLM and TTS, a call's latency is the providers' known delays
plus whatever the platform adds, so the platform's share can be measured (bench/). The STT
answers every speech segment with the same text, the LLM every context with the same reply
(it calls no functions), and the TTS speaks any text as a tone of fixed length. They are
built only where `BREEZE_FIXED_DELAY_SPEECH` is set (the test settings), so a template
cannot make a real call play a tone.

Config, for each of `stt`, `tts`, `llm`:
`{"provider": "fixed_delay", "options": {"delay_ms": 150, "text": "...", "audio_ms": 600}}`
(`text` for STT and LLM, `audio_ms` for TTS; all optional).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import dataclasses
import math
import os
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from calls.voice.speech.exceptions import SpeechConfigError
from templates_app.pipecat_compat import (
    Frame,
    FrameDirection,
    Language,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMService,
    LLMSettings,
    LLMTextFrame,
    SegmentedSTTService,
    STTSettings,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSService,
    TTSSettings,
    time_now_iso8601,
)

PROVIDER = "fixed_delay"
_TONE_HZ = 440
_TONE_AMPLITUDE = 8000
_CHUNK_SECS = 0.02


async def reply_after(secs: float) -> None:
    """Wait as a vendor's reply arrives: the event loop wakes when it is due, as for a socket.

    `asyncio.sleep` wakes up to a millisecond late (the loop waits on epoll in whole
    milliseconds), and a thread's timer adds its own wake-up and a hand-over to the loop;
    either lateness would be counted as the platform's in each stage that waits
    (docs/benchmarks.md). A timerfd becomes readable on time, like a reply's socket.
    """
    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[None] = loop.create_future()

    def arrive() -> None:
        if not arrived.done():
            arrived.set_result(None)

    timer = _timerfd_at(time.monotonic() + secs)
    loop.add_reader(timer, arrive)
    try:
        await arrived
    finally:
        loop.remove_reader(timer)
        os.close(timer)


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


class _Itimerspec(ctypes.Structure):
    _fields_ = (("it_interval", _Timespec), ("it_value", _Timespec))


_TFD_NONBLOCK, _TFD_CLOEXEC, _TFD_TIMER_ABSTIME = os.O_NONBLOCK, os.O_CLOEXEC, 1


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _timerfd_at(due: float) -> int:
    """A timerfd (Linux; `os.timerfd_create` is Python 3.13's) readable at monotonic `due`."""
    timer: int = _libc().timerfd_create(time.CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
    if timer < 0:
        raise OSError(ctypes.get_errno(), "timerfd_create")
    seconds = int(due)
    when = _Itimerspec(_Timespec(0, 0), _Timespec(seconds, int((due - seconds) * 1e9)))
    if _libc().timerfd_settime(timer, _TFD_TIMER_ABSTIME, ctypes.byref(when), None) != 0:
        os.close(timer)
        raise OSError(ctypes.get_errno(), "timerfd_settime")
    return timer


@dataclass(frozen=True)
class FixedDelay:
    """The options of one fixed-delay service."""

    delay_ms: int = 100
    text: str = "fixed delay"
    audio_ms: int = 500

    @property
    def delay_secs(self) -> float:
        return self.delay_ms / 1000

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, field: str) -> FixedDelay:
        """Read `options`; `field` is the config path they came from, for error messages."""
        values: dict[str, Any] = {}
        for key, value in options.items():
            if key in {"delay_ms", "audio_ms"}:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise SpeechConfigError(
                        f"{key} must be a whole number of milliseconds", field=f"{field}.{key}"
                    )
            elif key == "text":
                if not isinstance(value, str) or not value.strip():
                    raise SpeechConfigError("text must be non-empty", field=f"{field}.{key}")
            else:
                raise SpeechConfigError(
                    f"fixed_delay takes delay_ms, text and audio_ms, not {key!r}",
                    field=f"{field}.{key}",
                )
            values[key] = value
        return cls(**values)


class FixedDelaySTTService(SegmentedSTTService):
    """Hears every speech segment as `text`, `delay_ms` after the VAD closed the segment."""

    def __init__(self, *, fixed: FixedDelay, sample_rate: int | None = None, **kwargs: Any) -> None:
        super().__init__(
            sample_rate=sample_rate,
            settings=STTSettings(model=PROVIDER, language=Language.EN_US),
            **kwargs,
        )
        self._fixed = fixed

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        await reply_after(self._fixed.delay_secs)
        yield TranscriptionFrame(self._fixed.text, "customer", time_now_iso8601(), Language.EN_US)


class FixedDelayLLMService(LLMService):
    """Answers every context with `text`, `delay_ms` after it arrived; calls no functions."""

    def __init__(self, *, fixed: FixedDelay, **kwargs: Any) -> None:
        # Every field set (None: means nothing here), or Pipecat logs NOT_GIVEN fields.
        unset: dict[str, Any] = {setting.name: None for setting in dataclasses.fields(LLMSettings)}
        settings = LLMSettings(
            **unset | {"model": PROVIDER, "use_provider_thinking_default": False}
        )
        super().__init__(settings=settings, **kwargs)
        self._fixed = fixed

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if not isinstance(frame, LLMContextFrame):
            await self.push_frame(frame, direction)
            return
        await reply_after(self._fixed.delay_secs)
        await self.push_frame(LLMFullResponseStartFrame())
        await self.push_frame(LLMTextFrame(self._fixed.text))
        await self.push_frame(LLMFullResponseEndFrame())


class FixedDelayTTSService(TTSService):
    """Speaks any text as `audio_ms` of a tone, the first chunk `delay_ms` after the text."""

    def __init__(self, *, fixed: FixedDelay, sample_rate: int | None = None, **kwargs: Any) -> None:
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            sample_rate=sample_rate,
            settings=TTSSettings(model=PROVIDER, voice=None, language=None),
            **kwargs,
        )
        self._fixed = fixed

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        await reply_after(self._fixed.delay_secs)
        rate = self.sample_rate
        audio = _tone(self._fixed.audio_ms, rate)
        step = 2 * round(rate * _CHUNK_SECS)
        for start in range(0, len(audio), step):
            yield TTSAudioRawFrame(
                audio=audio[start : start + step],
                sample_rate=rate,
                num_channels=1,
                context_id=context_id,
            )


@cache
def _tone(duration_ms: int, rate: int) -> bytes:
    """16-bit PCM of a sine tone; made once, so the service costs no time per reply."""
    samples = (
        round(_TONE_AMPLITUDE * math.sin(2 * math.pi * _TONE_HZ * i / rate))
        for i in range(rate * duration_ms // 1000)
    )
    return b"".join(sample.to_bytes(2, "little", signed=True) for sample in samples)
