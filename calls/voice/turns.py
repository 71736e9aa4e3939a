"""When the customer's turn starts and ends, following the current node's settings.

Pipecat fixes a user aggregator's turn strategies when it is built and has no frame to swap
them, so Breeze gives the aggregator one start and one stop strategy whose settings the call
changes on every node transition (`NodeTurnSettings.apply`). VAD parameters change through
Pipecat's own `VADParamsUpdateFrame` instead (see `calls.voice.pipeline`).

Interruption `mode: disabled` means the customer cannot cut the bot off: speech over the bot
still starts a turn (and is answered once the bot has finished), but no interruption is sent,
so the bot's audio is never cleared. `min_words: N` lets speech over the bot interrupt only
once N words have been recognised; shorter backchannel ("uh-huh") is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from templates_app.pipecat_compat import (
    BaseUserTurnStartStrategy,
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InterimTranscriptionFrame,
    ProcessFrameResult,
    SpeechTimeoutUserTurnStopStrategy,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
)


# Pipecat leaves its strategies' __init_subclass__ and some triggers unannotated.
class NodeTurnStart(BaseUserTurnStartStrategy):  # type: ignore[no-untyped-call]
    """Starts the customer's turn on voice activity or a transcript, per the node's interruption."""

    def __init__(self) -> None:
        super().__init__()
        self.barge_in = True
        self.min_words = 1
        self.bot_speaking = False

    def configure(self, interruption: Mapping[str, Any]) -> None:
        self.barge_in = interruption.get("mode", "enabled") == "enabled"
        self.min_words = int(interruption.get("min_words", 1))

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, BotStartedSpeakingFrame):
            self.bot_speaking = True
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self.bot_speaking = False
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            if self.bot_speaking and self.barge_in and self.min_words > 1:
                return ProcessFrameResult.CONTINUE  # wait for enough words
            await self._start()
            return ProcessFrameResult.STOP
        elif isinstance(frame, TranscriptionFrame | InterimTranscriptionFrame):
            # Also the fallback when the VAD missed quiet speech the recogniser still heard.
            words = len(frame.text.split())
            needed = self.min_words if self.bot_speaking and self.barge_in else 1
            if words >= needed:
                await self._start()
                return ProcessFrameResult.STOP
            await self.trigger_reset_aggregation()  # type: ignore[no-untyped-call]
        return ProcessFrameResult.CONTINUE

    async def _start(self) -> None:
        await self.trigger_user_turn_started(
            enable_interruptions=self.barge_in or not self.bot_speaking
        )


class NodeTurnStop(SpeechTimeoutUserTurnStopStrategy):  # type: ignore[no-untyped-call]
    """Ends the turn after the VAD's silence, plus the node's input-collection pause if any."""

    def __init__(self) -> None:
        # The VAD's own stop delay already waited for silence; the transcript is what we wait for.
        super().__init__(user_speech_timeout=0.0)

    def configure(self, input_collection: Mapping[str, Any]) -> None:
        enabled = bool(input_collection.get("enabled", False))
        timeout = float(input_collection.get("user_speech_timeout", 0.0)) if enabled else 0.0
        # The parent reads this when each pause begins, so a change applies from the next pause.
        self._user_speech_timeout = timeout

    @property
    def user_speech_timeout(self) -> float:
        value: float = self._user_speech_timeout
        return value


class NodeTurnSettings:
    """The live turn strategies of one call, reconfigured when a node is entered."""

    def __init__(self) -> None:
        self.start = NodeTurnStart()
        self.stop = NodeTurnStop()

    def apply(self, settings: Mapping[str, Any]) -> None:
        self.start.configure(settings.get("interruption", {}))
        self.stop.configure(settings.get("input_collection", {}))
