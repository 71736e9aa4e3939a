"""The worker's own recording of a call: both sides mixed into one mono 8 kHz WAV.

Pipecat's AudioBufferProcessor, placed after the transport's output, sees the customer's
audio coming in and the bot's going out, keeps them aligned (silence where one side is quiet)
and hands over the mixed audio every few seconds; the chunks go straight into a temporary
WAV file, so a long call does not grow in memory. The file is stored when the call ends.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async

from calls.recordings.models import Recording
from calls.recordings.selectors import recording_mode
from calls.recordings.services import recording_store
from calls.recordings.storage import WAV, WavBuilder
from templates_app.pipecat_compat import AudioBufferProcessor

if TYPE_CHECKING:
    from calls.selectors import CallContext

logger = logging.getLogger(__name__)

# Mixed audio is handed over in chunks of this many seconds.
CHUNK_SECONDS = 5


class CallAudioRecording:
    def __init__(self, *, sample_rate: int) -> None:
        self._wav = WavBuilder(sample_rate=sample_rate)
        self.processor = AudioBufferProcessor(
            sample_rate=sample_rate,
            num_channels=1,
            buffer_size=sample_rate * 2 * CHUNK_SECONDS,
            auto_start_recording=True,
        )
        self.processor.add_event_handler("on_audio_data", self._on_audio_data)

    async def _on_audio_data(
        self, _processor: AudioBufferProcessor, audio: bytes, sample_rate: int, channels: int
    ) -> None:
        self._wav.write(audio)

    @property
    def duration_seconds(self) -> float:
        return self._wav.duration_seconds

    async def store(self, *, call_id: int) -> None:
        """Store the finished WAV (after the pipeline ended); a failure is logged, not raised.

        A lost recording must not keep the call from being ended and reported.
        """
        content = self._wav.finish()
        with content:
            if self._wav.frames == 0:
                return
            try:
                await sync_to_async(recording_store)(
                    call_id=call_id,
                    source=Recording.Source.WORKER,
                    content=content,
                    content_type=WAV,
                    duration_seconds=round(self._wav.duration_seconds, 3),
                )
            except Exception:
                logger.exception("call %s: storing the recording failed", call_id)


def call_audio_recording(context: CallContext, *, sample_rate: int) -> CallAudioRecording | None:
    """A recording for the call's pipeline when its template has the worker record it."""
    mode = recording_mode(definition=context.inputs.definition, provider=context.provider)
    return CallAudioRecording(sample_rate=sample_rate) if mode == "worker" else None
