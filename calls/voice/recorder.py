"""Watches a call's frames to record its turns and the latency of each bot answer.

Latency is measured from the end of the customer's speech to the bot's first audio, and
split into STT (speech end → transcript), LLM (transcript → first text or function call)
and TTS (first text → first synthesized audio).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from templates_app.pipecat_compat import (
    BaseObserver,
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    FramePushed,
    FunctionCallInProgressFrame,
    LLMFullResponseEndFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    VADUserStoppedSpeakingFrame,
)


@dataclass
class TurnRecord:
    speaker: str
    text: str
    node: str
    started_offset_ms: int | None = None
    ended_offset_ms: int | None = None
    function_called: str = ""
    latency: dict[str, int | None] = field(default_factory=dict)


@dataclass
class _Marks:
    speech_end: float | None = None
    transcript: float | None = None
    llm_first: float | None = None
    tts_first: float | None = None


class CallRecorder(BaseObserver):
    def __init__(
        self, *, current_node: Callable[[], str], on_turn: Callable[[TurnRecord], None]
    ) -> None:
        super().__init__(observe_every_push=False)
        self._current_node = current_node
        self._on_turn = on_turn
        self._origin = time.monotonic()
        self._marks = _Marks()
        self._pending_customer: TurnRecord | None = None
        self._bot_text: list[str] = []
        self._bot_started: float | None = None
        self._latency: dict[str, int | None] = {}
        self._awaiting_answer = False
        self.turns: list[TurnRecord] = []

    def _offset_ms(self, moment: float | None = None) -> int:
        return round(((moment or time.monotonic()) - self._origin) * 1000)

    async def on_push_frame(self, data: FramePushed) -> None:
        frame, now = data.frame, time.monotonic()
        if isinstance(frame, VADUserStoppedSpeakingFrame | TranscriptionFrame):
            self._customer_frame(frame, now)
        else:
            self._bot_frame(frame, now)

    def _customer_frame(self, frame: object, now: float) -> None:
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            # Latency counts from the end of the customer's latest speech.
            if self._marks.transcript is None or not self._awaiting_answer:
                self._marks = _Marks(speech_end=now)
        elif isinstance(frame, TranscriptionFrame) and frame.text.strip():
            self._flush_customer()
            self._marks.transcript = now
            self._awaiting_answer = True
            start = self._marks.speech_end or now
            self._pending_customer = TurnRecord(
                "customer",
                frame.text.strip(),
                self._current_node(),
                ended_offset_ms=self._offset_ms(start),
            )

    def _bot_frame(self, frame: object, now: float) -> None:
        if isinstance(frame, FunctionCallInProgressFrame):
            self._marks.llm_first = self._marks.llm_first or now
            if self._pending_customer is not None:
                self._pending_customer.function_called = frame.function_name
        elif isinstance(frame, LLMTextFrame):
            self._marks.llm_first = self._marks.llm_first or now
            self._bot_text.append(frame.text)
        elif isinstance(frame, TTSSpeakFrame):
            self._bot_text.append(frame.text + " ")
        elif isinstance(frame, LLMFullResponseEndFrame):
            self._bot_text.append(" ")
        elif isinstance(frame, TTSAudioRawFrame):
            self._marks.tts_first = self._marks.tts_first or now
        elif isinstance(frame, BotStartedSpeakingFrame):
            # The transport announces it both upstream and downstream: count it once.
            if self._bot_started is None:
                self._bot_started = now
                self._latency = self._answer_latency(now)
        elif isinstance(frame, BotStoppedSpeakingFrame) and self._bot_started is not None:
            self._flush_bot(now)
            self._bot_started = None

    def _answer_latency(self, first_audio: float) -> dict[str, int | None]:
        marks = self._marks
        if marks.speech_end is None or not self._awaiting_answer:
            return {}
        self._awaiting_answer = False

        def span(start: float | None, end: float | None) -> int | None:
            return None if start is None or end is None else max(0, round((end - start) * 1000))

        self._marks = _Marks()
        return {
            "total_ms": span(marks.speech_end, first_audio),
            "stt_ms": span(marks.speech_end, marks.transcript),
            "llm_ms": span(marks.transcript, marks.llm_first),
            "tts_ms": span(marks.llm_first, marks.tts_first),
        }

    def _flush_customer(self) -> None:
        if self._pending_customer is not None:
            self._emit(self._pending_customer)
            self._pending_customer = None

    def _flush_bot(self, now: float) -> None:
        text = " ".join("".join(self._bot_text).split())
        self._bot_text = []
        if not text:
            return
        started = self._offset_ms(self._bot_started) if self._bot_started else None
        customer = self._pending_customer
        # Whoever finished speaking first comes first: a customer who talked over the bot
        # is recorded after the bot turn they interrupted, before the bot's answer.
        if customer is not None and (started is None or (customer.ended_offset_ms or 0) <= started):
            self._flush_customer()
        self._emit(
            TurnRecord(
                "bot",
                text,
                self._current_node(),
                started_offset_ms=started,
                ended_offset_ms=self._offset_ms(now),
                latency=self._latency,
            )
        )
        self._latency = {}

    def finish(self) -> None:
        """Record whatever was said but not yet stored (the call ended mid-turn)."""
        self._flush_bot(time.monotonic())
        self._flush_customer()

    def _emit(self, record: TurnRecord) -> None:
        self.turns.append(record)
        self._on_turn(record)
