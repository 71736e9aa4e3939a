"""The worker's Pipecat transport: provider messages arrive from the relay, replies go back.

Messages stay in the provider's own wire format end to end; the provider's Pipecat serializer
(Twilio, Plivo or Exotel) turns them into frames here, in the worker, so the consumer never
parses audio. A malformed message, or a media message that arrives after a later one (a
late or repeated sequence number), is dropped with a log line and the call goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

import numpy as np

from templates_app.pipecat_compat import (
    BaseInputTransport,
    BaseOutputTransport,
    BaseTransport,
    CancelFrame,
    EndFrame,
    EndWorkerFrame,
    Frame,
    FrameDirection,
    FrameProcessorSetup,
    FrameSerializer,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
    StartFrame,
    TransportParams,
)

logger = logging.getLogger(__name__)

Send = Callable[[str | bytes], Awaitable[None]]

# How far behind its schedule the bot's audio may fall and still catch up (see `paced`).
MAX_CATCH_UP_S = 0.1
# While the line is quiet, this many 20 ms frames go on as one (see `quiet`).
QUIET_FRAMES_PER_PUSH = 3
# A frame with a sample this loud (about -50 dBFS) is not held: it may be speech starting.
LOUD_SAMPLE = 100


class RelayInputTransport(BaseInputTransport):
    def __init__(
        self,
        params: TransportParams,
        *,
        inbound: asyncio.Queue[str | None],
        serializer: FrameSerializer,
        quiet: Callable[[], bool] | None = None,
    ) -> None:
        """`quiet()` says whether the customer is silent (the VAD is resting).

        Then audio is pushed 60 ms at a time instead of 20: every frame costs the same CPU
        in each processor it crosses whatever its length, and a quiet line is most of a call.
        Only quiet frames are held: one with any sound in it goes on at once, so the start
        of speech is not held back, and from there on frame by frame until the VAD rests
        again, so neither is the end of speech, which times the answer. Held audio goes on
        before any other frame and before the end of the stream; when the bot ends the call,
        up to 40 ms of quiet still held is not pushed.
        """
        super().__init__(params)
        self._inbound = inbound
        self._serializer = serializer
        self._quiet = quiet
        self._held: list[InputAudioRawFrame] = []
        self._reader: asyncio.Task[None] | None = None
        self._last_media_sequence = 0

    async def setup(self, setup: FrameProcessorSetup) -> None:  # type: ignore[override]
        await super().setup(setup)
        await self._serializer.setup(setup)

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)
        self._reader = self.create_task(self._read())

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._stop_reading()

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._stop_reading()

    async def _stop_reading(self) -> None:
        if self._reader is not None:
            await self.cancel_task(self._reader)
            self._reader = None

    async def push_audio_frame(self, frame: InputAudioRawFrame) -> None:
        # Pipecat's base queues each frame for a task of its own that takes it with a timeout
        # (a task, a timer and several wake-ups per 20 ms frame) only to apply an input
        # filter before passing it on. With no filter the frame goes on from the reader's
        # task, in order with the messages around it.
        if self._params.audio_in_filter is not None:
            await super().push_audio_frame(frame)
        elif (
            self._params.audio_in_enabled
            and self._params.audio_in_passthrough
            and not self._paused
            and frame.audio
        ):
            await self.push_frame(frame)

    async def _read(self) -> None:
        while True:
            message = await self._inbound.get()
            if message is None:
                await self._push_held()
                # The customer hung up or the stream dropped. Pushing EndFrame downstream from
                # here hangs the worker (pipecat-1.14.md §2.2); ask the worker upstream instead.
                await self.push_frame(EndWorkerFrame(), FrameDirection.UPSTREAM)
                return
            if self._out_of_order(message):
                continue
            try:
                frame = await self._serializer.deserialize(message)
            except Exception:
                logger.warning("dropped a malformed media message (%d bytes)", len(message))
                continue
            if frame is None:
                continue
            if isinstance(frame, InputAudioRawFrame):
                await self._push_audio(frame)
            else:
                await self._push_held()
                await self.push_frame(frame)

    async def _push_audio(self, frame: InputAudioRawFrame) -> None:
        if self._quiet is None or not self._quiet() or _loud(frame.audio):
            await self._push_held()
            await self.push_audio_frame(frame)
            return
        self._held.append(frame)
        if len(self._held) == QUIET_FRAMES_PER_PUSH:
            await self._push_held()

    async def _push_held(self) -> None:
        if not self._held:
            return
        first = self._held[0]
        audio = b"".join(frame.audio for frame in self._held)
        self._held = []
        await self.push_audio_frame(
            InputAudioRawFrame(
                audio=audio, sample_rate=first.sample_rate, num_channels=first.num_channels
            )
        )

    def _out_of_order(self, message: str) -> bool:
        """Whether a media message's sequence number is not after the last one played.

        Audio played out of order would garble speech for the recogniser; a late frame is
        worth less than a 20 ms gap. Every provider numbers its messages (Twilio and Exotel
        as text, Plivo as a number).
        """
        try:
            parsed = json.loads(message)
            if parsed.get("event") != "media":
                return False
            sequence = int(parsed.get("sequenceNumber", parsed.get("sequence_number")))
        except (ValueError, TypeError, AttributeError):
            return False  # unnumbered or malformed: the serializer decides
        if sequence <= self._last_media_sequence:
            logger.warning(
                "dropped an out-of-order media message (#%d after #%d)",
                sequence,
                self._last_media_sequence,
            )
            return True
        self._last_media_sequence = sequence
        return False


class RelayOutputTransport(BaseOutputTransport):
    """Writes serialized frames to the relay, paced like a real phone line plays audio."""

    def __init__(self, params: TransportParams, *, send: Send, serializer: FrameSerializer) -> None:
        super().__init__(params)
        self._send = send
        self._serializer = serializer
        self._send_interval = 0.0
        self._next_send_time = 0.0

    async def setup(self, setup: FrameProcessorSetup) -> None:  # type: ignore[override]
        await super().setup(setup)
        await self._serializer.setup(setup)

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        # One chunk per chunk of playing time (the size is in bytes, two per sample): the
        # provider's buffer stays fed without running ahead of playback, so a barge-in's
        # `clear` has little to drop and bot-speaking state stays truthful.
        self._send_interval = self.audio_chunk_size / 2 / self.sample_rate
        await self.set_transport_ready(frame)

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._write(frame)

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._write(frame)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InterruptionFrame):
            await self._write(frame)
            self._next_send_time = 0.0

    async def send_message(
        self, frame: OutputTransportMessageFrame | OutputTransportMessageUrgentFrame
    ) -> None:
        await self._write(frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        sent = await self._write(frame)
        await self._pace()
        return sent

    async def _write(self, frame: Frame) -> bool:
        try:
            payload = await self._serializer.serialize(frame)
        except Exception:
            logger.exception("could not serialize %s", type(frame).__name__)
            return False
        if payload:
            try:
                await self._send(payload)
            except ConnectionError:
                return False
        return True

    async def _pace(self) -> None:
        delay, self._next_send_time = paced(
            now=time.monotonic(), due=self._next_send_time, interval=self._send_interval
        )
        await asyncio.sleep(delay)


def paced(*, now: float, due: float, interval: float) -> tuple[float, float]:
    """(how long to wait before the next frame, when the one after it is due).

    Frames keep to the schedule the answer started on: after a stall (the worker's process
    waited for a busy CPU) the overdue frames go at once and the rest stay on time, rather
    than every later frame arriving as late as the stall. The provider buffers what comes
    early. A frame more than `MAX_CATCH_UP_S` behind (the answer's first, or a long stall)
    starts a new schedule instead of a burst.
    """
    if now - due > MAX_CATCH_UP_S:
        return 0.0, now + interval
    return max(0.0, due - now), due + interval


class RelayTransport(BaseTransport):
    def __init__(
        self,
        params: TransportParams,
        *,
        inbound: asyncio.Queue[str | None],
        send: Send,
        serializer: FrameSerializer,
        quiet: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__()
        self._input = RelayInputTransport(
            params, inbound=inbound, serializer=serializer, quiet=quiet
        )
        self._output = RelayOutputTransport(params, send=send, serializer=serializer)

    def input(self) -> RelayInputTransport:
        return self._input

    def output(self) -> RelayOutputTransport:
        return self._output


def _loud(audio: bytes) -> bool:
    samples = np.frombuffer(audio, dtype="<i2")
    return bool(samples.size) and (
        int(samples.max()) >= LOUD_SAMPLE or int(samples.min()) <= -LOUD_SAMPLE
    )
