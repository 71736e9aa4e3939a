"""The simulated customer's side of a call, speaking a provider's media stream over a websocket.

It behaves as Twilio (or Plivo, or Exotel: `protocols.py`) does between a phone and the bot:
it streams the caller's audio as 20 ms frames in real time (silence included), plays the
bot's audio into a simulated playback buffer at real-time rate, echoes marks once the audio
queued before them has played, and empties that buffer on a clear.

Call time is the clock everything is measured in: wall time multiplied by `speed`. At
`speed=1` the call is real time; tests compress it and every duration (turn silence, mark
timing, `max_call_seconds`) compresses with it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from telephony.providers.simulator.audio import (
    FRAME_SAMPLES,
    PHONE_RATE,
    duration_s,
    resample,
    synthesize,
)
from telephony.providers.simulator.persona import BARGE_IN_DELAY_S, Persona, Step
from telephony.providers.simulator.protocols import PROTOCOLS, Incoming, Protocol, StreamIds

# "provider": the provider ended the line under the stream (a REST hang-up or transfer).
HungUpBy = Literal["customer", "bot", "timeout", "provider"]

FRAME_S: Final = 0.02
DTMF_GAP_S: Final = 0.25
# Twilio's own media-streams client announces itself this way; servers may log or check it.
USER_AGENT: Final = "Twilio.TmeWs/1.0"
_NO_PARAMETERS: Final[Mapping[str, str]] = MappingProxyType({})


@dataclass
class BotTurn:
    """A stretch of bot speech, ended by `bot_turn_silence_ms` of quiet or by a `clear`.

    `start`/`end` are call-time offsets of the audio's playback; `pcm` is what the customer
    heard (8 kHz PCM16), so audio discarded by a `clear` is not in it.
    """

    start: float
    end: float
    pcm: bytes
    interrupted: bool = False


@dataclass
class CustomerTurn:
    text: str
    start: float
    end: float
    response_latency_ms: float | None = None


@dataclass
class SimulatorResult:
    persona: str
    call_sid: str
    stream_sid: str
    bot_audio: bytes = b""
    bot_turns: list[BotTurn] = field(default_factory=list)
    customer_turns: list[CustomerTurn] = field(default_factory=list)
    events: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    hung_up_by: HungUpBy = "timeout"
    cleared: int = 0
    marks_echoed: int = 0
    errors: list[str] = field(default_factory=list)
    response_latencies_ms: list[float] = field(default_factory=list)
    duration_s: float = 0.0


async def run_persona(
    url: str,
    persona: Persona,
    *,
    call_sid: str,
    stream_sid: str,
    account_sid: str = "ACsimulator",
    custom_parameters: Mapping[str, str] = _NO_PARAMETERS,
    speed: float = 1.0,
    extra_headers: Mapping[str, str] | None = None,
    protocol: str = "twilio",
    line_ended: asyncio.Event | None = None,
) -> SimulatorResult:
    """Place one simulated call against the media websocket at `url`, in `protocol`'s dialect.

    Connection failures raise (there was no call); anything odd the server sends once
    connected is recorded in `errors` and the call goes on. Setting `line_ended` ends the
    call from the provider's side: the stream stops as the provider stops it.
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    # Synthesize before dialling: a 100 ms Piper call mid-call would stall the media clock.
    lines = {text: await asyncio.to_thread(synthesize, text) for text in persona.lines}
    async with connect(
        url,
        additional_headers=dict(extra_headers or {}),
        user_agent_header=USER_AGENT,
        compression=None,
        close_timeout=2,
    ) as ws:
        ids = StreamIds(account_sid=account_sid, call_sid=call_sid, stream_sid=stream_sid)
        call = _Call(
            ws,
            persona,
            lines=lines,
            protocol=PROTOCOLS[protocol](ids),
            custom_parameters=dict(custom_parameters),
            speed=speed,
        )
        if line_ended is None:
            return await call.run()
        watcher = asyncio.create_task(_finish_when(line_ended, call))
        try:
            return await call.run()
        finally:
            watcher.cancel()


async def _finish_when(event: asyncio.Event, call: _Call) -> None:
    await event.wait()
    call._finish("provider")


@dataclass
class _Frame:
    payload: bytes
    turn: CustomerTurn
    first: bool
    last: bool


@dataclass
class _OpenTurn:
    start: float
    segments: list[tuple[float, bytes]] = field(default_factory=list)
    interrupted: bool = False


class _CallEndedError(Exception):
    """Raised inside the script when the call ends under it."""


class _Call:
    def __init__(
        self,
        ws: ClientConnection,
        persona: Persona,
        *,
        lines: Mapping[str, bytes],
        protocol: Protocol,
        custom_parameters: dict[str, str],
        speed: float,
    ) -> None:
        self.ws = ws
        self.persona = persona
        self.lines = lines
        self.protocol = protocol
        self.ids = protocol.ids
        self.custom_parameters = custom_parameters
        self.speed = speed
        self.result = SimulatorResult(
            persona=persona.name, call_sid=self.ids.call_sid, stream_sid=self.ids.stream_sid
        )
        self.turn_silence_s = persona.bot_turn_silence_ms / 1000
        self.finished: HungUpBy | None = None
        self.ended_at = 0.0
        self.t0 = time.monotonic()
        self.frames_sent = 0
        self.speech: deque[_Frame] = deque()
        self.outbox: list[dict[str, Any]] = []
        self.bot_audio = bytearray()
        self.play_end = 0.0
        self.marks: deque[tuple[float, str]] = deque()
        self.open_turn: _OpenTurn | None = None
        self.awaiting_reply: CustomerTurn | None = None
        self.tick = asyncio.Event()
        self.script_error: BaseException | None = None
        self.error_counts: dict[str, int] = {}

    def now(self) -> float:
        return (time.monotonic() - self.t0) * self.speed

    async def run(self) -> SimulatorResult:
        self.t0 = time.monotonic()
        try:
            for message in self.protocol.opening(self.custom_parameters):
                await self._send(message)
        except ConnectionClosed:
            self._finish("bot")
        receiver = asyncio.create_task(self._receive())
        script = asyncio.create_task(self._script())
        script.add_done_callback(self._script_done)
        try:
            await self._clock()
        finally:
            script.cancel()
            if self.finished != "bot":
                await self._hang_up()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver
        if self.script_error is not None:
            raise self.script_error
        return self._wrap_up()

    # Sending: only the clock loop (and the opening/closing messages) write to the socket, so
    # sequence numbers go out in order without a lock.

    async def _send(self, message: dict[str, Any]) -> None:
        if message["event"] != "connected":
            message = self.protocol.numbered(message)
        if message["event"] != "media":
            self.result.events.append((self.now(), "sent", message))
        await self.ws.send(json.dumps(message, separators=(",", ":")))

    async def _hang_up(self) -> None:
        stop = self.protocol.stop()
        if stop is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._send(stop)
        await self.ws.close()

    async def _clock(self) -> None:
        try:
            while self.finished is None:
                now = self.now()
                self._advance(now)
                self._wake_script()
                for message in self.outbox:
                    await self._send(message)
                self.outbox.clear()
                # Twilio sends each 20 ms frame once it has been captured, i.e. at its end.
                # Falling behind (a stalled loop) sends the backlog at once so media time
                # never drifts from call time.
                while (self.frames_sent + 1) * FRAME_S <= now:
                    await self._send_frame()
                wait = ((self.frames_sent + 1) * FRAME_S - self.now()) / self.speed
                await asyncio.sleep(max(wait, 0))
        except ConnectionClosed:
            self._finish("bot")

    async def _send_frame(self) -> None:
        frame = self.speech.popleft() if self.speech else None
        media_start = self.frames_sent * FRAME_S
        self.frames_sent += 1
        if frame is not None and frame.first:
            frame.turn.start = media_start
            self.result.customer_turns.append(frame.turn)
        payload = frame.payload if frame is not None else _SILENT_FRAME
        await self._send(
            self.protocol.media(
                payload, chunk=self.frames_sent, timestamp_ms=round(media_start * 1000)
            )
        )
        if frame is not None and frame.last:
            frame.turn.end = media_start + FRAME_S
            self.awaiting_reply = frame.turn

    def _advance(self, now: float) -> None:
        while self.marks and self.marks[0][0] <= now:
            self._echo_mark(self.marks.popleft()[1])
        if self.open_turn is not None and now >= self.play_end + self.turn_silence_s:
            self._close_turn(end=self.play_end)
        if now >= self.persona.max_call_seconds:
            self._finish("timeout")

    def _echo_mark(self, name: str) -> None:
        self.outbox.append(self.protocol.mark_echo(name))
        self.result.marks_echoed += 1

    def _finish(self, by: HungUpBy) -> None:
        if self.finished is None:
            self.finished = by
            self.ended_at = self.now()
        self._wake_script()

    # Receiving: updates the playback model; never sends.

    async def _receive(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in self.ws:
                self._handle(message)
        if self.finished is None:
            self.result.events.append(
                (self.now(), "closed", {"code": self.ws.close_code, "reason": self.ws.close_reason})
            )
        self._finish("bot")

    def _handle(self, raw: str | bytes) -> None:
        now = self.now()
        if isinstance(raw, bytes):
            self._error(
                now, f"binary frame of {len(raw)} bytes: {self.protocol.title} only takes JSON text"
            )
            return
        try:
            message = json.loads(raw)
        except ValueError:
            self._error(now, f"not JSON: {raw[:80]!r}")
            return
        if not isinstance(message, dict):
            self._error(now, f"not a JSON object: {raw[:80]!r}")
            return
        event = message.get("event")
        if event != "media":
            self.result.events.append((now, "received", message))
        kind = self.protocol.incoming.get(event) if isinstance(event, str) else None
        if kind is None:
            self._error(now, f"unknown event {event!r}")
            return
        stream_key = self.protocol.stream_key
        if message.get(stream_key) != self.ids.stream_sid:
            self._error(now, f"{event} with {stream_key} {message.get(stream_key)!r}")
        self._handlers[kind](self, message, now)

    def _on_media(self, message: dict[str, Any], now: float) -> None:
        media = message.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        if not isinstance(payload, str):
            self._error(now, "media without media.payload")
            return
        try:
            audio = base64.b64decode(payload, validate=True)
        except binascii.Error:
            self._error(now, f"media payload is not base64: {payload[:40]!r}")
            return
        pcm, problem = self.protocol.audio(audio, message)
        if problem is not None:
            self._error(now, problem)
        if pcm:
            self._play(pcm, now)

    def _on_mark(self, message: dict[str, Any], now: float) -> None:
        name = self.protocol.mark_name(message)
        if not isinstance(name, str):
            self._error(now, f"{message['event']} without {self.protocol.mark_field}")
            return
        # Echo once everything queued before it has played; with nothing queued, at once.
        self.marks.append((max(self.play_end, now), name))

    def _on_clear(self, message: dict[str, Any], now: float) -> None:
        self.result.cleared += 1
        turn = self.open_turn
        if turn is not None:
            dropped = self.play_end > now
            turn.segments = _cut(turn.segments, now)
            turn.interrupted = turn.interrupted or dropped
            self.play_end = min(self.play_end, now)
            self._close_turn(end=self.play_end)
        # Twilio answers a clear by echoing every mark whose audio it just threw away.
        while self.marks:
            self._echo_mark(self.marks.popleft()[1])

    _handlers: Final[dict[Incoming, Callable[[_Call, dict[str, Any], float], None]]] = {
        "media": _on_media,
        "mark": _on_mark,
        "clear": _on_clear,
    }

    def _error(self, now: float, text: str) -> None:
        # A bot that gets one field wrong gets it wrong 50 times a second: keep the first
        # occurrence and count the rest.
        if text in self.error_counts:
            self.error_counts[text] += 1
            return
        self.error_counts[text] = 1
        self.result.errors.append(f"{now:.2f}s: {text}")

    def _play(self, pcm: bytes, now: float) -> None:
        self.bot_audio += pcm
        start = max(now, self.play_end)
        if self.open_turn is None:
            self.open_turn = _OpenTurn(start=start)
            reply_to = self.awaiting_reply
            # Only a turn that begins after the customer stopped counts as the reply; one
            # already playing then is the bot carrying on.
            if reply_to is not None and start >= reply_to.end:
                reply_to.response_latency_ms = (start - reply_to.end) * 1000
                self.awaiting_reply = None
        self.open_turn.segments.append((start, pcm))
        self.play_end = start + duration_s(pcm)

    def _close_turn(self, *, end: float) -> None:
        turn = self.open_turn
        assert turn is not None
        self.open_turn = None
        pcm = b"".join(segment for _, segment in turn.segments)
        self.result.bot_turns.append(BotTurn(turn.start, end, pcm, turn.interrupted))
        self._wake_script()

    # The script: one coroutine walking the persona's steps, woken on every clock tick.

    def _wake_script(self) -> None:
        self.tick.set()
        self.tick = asyncio.Event()

    async def _until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            if self.finished is not None:
                raise _CallEndedError
            await self.tick.wait()

    def _script_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.script_error = task.exception()
            self._finish("customer")

    async def _script(self) -> None:
        since = 0.0
        with contextlib.suppress(_CallEndedError):
            for step in self.persona.steps:
                barge_since = since
                if step.wait_for_bot:
                    await self._until(self._bot_finished_turn_since(since))
                    barge_since = self.now()
                if step.barge_in:
                    await self._until(self._bot_speaking_since(barge_since))
                started = self.now()
                await self._act(step)
                since = started

    def _bot_finished_turn_since(self, since: float) -> Callable[[], bool]:
        return lambda: any(turn.start >= since for turn in self.result.bot_turns)

    def _bot_speaking_since(self, since: float) -> Callable[[], bool]:
        def speaking() -> bool:
            turn, now = self.open_turn, self.now()
            return (
                turn is not None
                and turn.start >= since
                and now < self.play_end
                and now >= turn.start + BARGE_IN_DELAY_S
            )

        return speaking

    def _reached(self, call_time: float) -> Callable[[], bool]:
        return lambda: self.now() >= call_time

    async def _act(self, step: Step) -> None:
        started = self.now()
        if step.say is not None:
            turn = CustomerTurn(step.say, start=-1.0, end=-1.0)
            self.speech.extend(_frames(self.lines[step.say], turn))
            await self._until(lambda: turn.end >= 0)
        elif step.silence_ms is not None:
            await self._until(self._reached(started + step.silence_ms / 1000))
        elif step.dtmf is not None:
            for index, digit in enumerate(step.dtmf):
                await self._until(self._reached(started + index * DTMF_GAP_S))
                self.outbox.append(self.protocol.dtmf(digit))
        else:
            self._finish("customer")

    def _wrap_up(self) -> SimulatorResult:
        now = self.ended_at
        if self.open_turn is not None:
            # The line is gone: whatever had not played yet was never heard.
            self.open_turn.segments = _cut(self.open_turn.segments, now)
            self._close_turn(end=min(self.play_end, now))
        result = self.result
        assert self.finished is not None
        result.hung_up_by = self.finished
        result.duration_s = now
        result.errors = [
            f"{error} (x{count})" if count > 1 else error
            for error, count in zip(result.errors, self.error_counts.values(), strict=True)
        ]
        result.bot_audio = bytes(self.bot_audio)
        for turn in result.customer_turns:
            if turn.end < 0:  # cut off mid-sentence by the end of the call
                turn.end = now
        result.response_latencies_ms = [
            turn.response_latency_ms
            for turn in result.customer_turns
            if turn.response_latency_ms is not None
        ]
        return result


# Frames are 8 kHz 16-bit PCM here; the protocol encodes them as it sends.
FRAME_BYTES: Final = 2 * FRAME_SAMPLES
_SILENT_FRAME: Final = bytes(FRAME_BYTES)


def _frames(pcm: bytes, turn: CustomerTurn) -> list[_Frame]:
    padded = pcm + bytes(-len(pcm) % FRAME_BYTES)
    chunks = [padded[i : i + FRAME_BYTES] for i in range(0, len(padded), FRAME_BYTES)]
    last = len(chunks) - 1
    return [_Frame(chunk, turn, i == 0, i == last) for i, chunk in enumerate(chunks)]


def _cut(segments: list[tuple[float, bytes]], at: float) -> list[tuple[float, bytes]]:
    """Keep only audio that had played by call time `at`."""
    kept: list[tuple[float, bytes]] = []
    for start, pcm in segments:
        if start >= at:
            break
        played = 2 * int((at - start) * PHONE_RATE)
        kept.append((start, pcm[:played]))
    return kept


# What the customer heard, as text: pocketsphinx on each bot turn.

_WORD: Final = re.compile(r"[a-z']+")
_recogniser_lock = threading.Lock()


def transcribe_bot_turns(
    result: SimulatorResult, *, phrases: Sequence[str] | None = None
) -> list[str]:
    """Recognise each bot turn's audio, one string per turn (lowercase words).

    With `phrases`, decoding is constrained to sequences of those phrases (a JSGF grammar),
    which is exact on clean synthetic speech; without, pocketsphinx's free language model
    is used, which gets most words right on 8 kHz audio but not all.
    """
    with _recogniser_lock:
        recogniser = _grammar_recogniser(tuple(phrases)) if phrases else _free_recogniser()
        return [recogniser.decode(turn.pcm) for turn in result.bot_turns]


@dataclass(frozen=True)
class _Recogniser:
    decoder: Any
    initial_cmn: str

    @classmethod
    def create(cls, **config: object) -> _Recogniser:
        from pocketsphinx import Decoder  # type: ignore[import-untyped]

        decoder = Decoder(samprate=16000, loglevel="FATAL", **config)
        return cls(decoder, str(decoder.get_cmn(False)))

    def decode(self, pcm: bytes) -> str:
        if not pcm:
            return ""
        # The bundled acoustic model is 16 kHz only; telephone audio must be upsampled.
        audio = resample(pcm, PHONE_RATE, 16000)
        # The decoder adapts its cepstral mean after every utterance; starting each turn
        # from the same mean makes a transcript independent of what was decoded before.
        self.decoder.set_cmn(self.initial_cmn)
        self.decoder.start_utt()
        self.decoder.process_raw(audio, full_utt=True)
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        return str(hypothesis.hypstr) if hypothesis is not None else ""


@functools.cache
def _free_recogniser() -> _Recogniser:
    return _Recogniser.create()


@functools.lru_cache(maxsize=8)
def _grammar_recogniser(phrases: tuple[str, ...]) -> _Recogniser:
    recogniser = _Recogniser.create(lm=None)
    decoder = recogniser.decoder
    alternatives = []
    for phrase in phrases:
        words = _WORD.findall(phrase.lower())
        unknown = [word for word in words if decoder.lookup_word(word) is None]
        if not words or unknown:
            raise ValueError(f"phrase {phrase!r}: words not in the dictionary: {unknown}")
        alternatives.append("(" + " ".join(words) + ")")
    # Any sequence of the phrases, since one bot turn often says several of them.
    grammar = (
        "#JSGF V1.0;\ngrammar bot;\n"
        "public <turn> = <phrase>+;\n"
        f"<phrase> = {' | '.join(alternatives)};\n"
    )
    decoder.add_jsgf_string("phrases", grammar)
    decoder.activate_search("phrases")
    return recogniser
