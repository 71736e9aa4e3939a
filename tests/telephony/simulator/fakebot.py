"""A minimal bot side of Twilio Media Streams, strict about what the customer sends."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from telephony.providers.simulator.audio import pcm_to_ulaw, rms, ulaw_to_pcm
from telephony.providers.simulator.client import SimulatorResult, run_persona
from telephony.providers.simulator.persona import Persona

ACCOUNT_SID = "ACtest"
CALL_SID = "CAtest"
STREAM_SID = "MZtest"
PARAMETERS = {"call_id": "abc123", "merchant": "acme"}
WAIT_S = 15.0
SPEECH_RMS = 300.0
# Customer speech has ended after this many quiet 20 ms frames (call time).
QUIET_FRAMES_TO_END = 20


@dataclass
class BotSession:
    ws: ServerConnection
    speed: float
    failures: list[str] = field(default_factory=list)
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    mark_echoes: dict[str, float] = field(default_factory=dict)
    dtmf: list[str] = field(default_factory=list)
    stop: dict[str, Any] | None = None
    key_pressed: asyncio.Event = field(default_factory=asyncio.Event)
    speech_started: asyncio.Event = field(default_factory=asyncio.Event)
    speech_ended: asyncio.Event = field(default_factory=asyncio.Event)
    speech_started_at: float = 0.0
    media_frames: int = 0
    _sequence: int = 1
    _quiet: int = 0

    async def speak(self, pcm: bytes, *, paced: bool = True) -> float:
        """Send `pcm` as 20 ms μ-law media messages; returns the wall time of the first."""
        ulaw = pcm_to_ulaw(pcm)
        first = time.monotonic()
        for index, offset in enumerate(range(0, len(ulaw), 160)):
            if paced:
                await _sleep_until(first + index * 0.02 / self.speed)
            payload = base64.b64encode(ulaw[offset : offset + 160]).decode()
            await self.send(
                {"event": "media", "streamSid": STREAM_SID, "media": {"payload": payload}}
            )
        return first

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def mark(self, name: str) -> None:
        await self.send({"event": "mark", "streamSid": STREAM_SID, "mark": {"name": name}})

    async def clear(self) -> None:
        await self.send({"event": "clear", "streamSid": STREAM_SID})

    async def customer_speech(self) -> None:
        """Wait for the customer to speak and then fall quiet."""
        await asyncio.wait_for(self.speech_ended.wait(), WAIT_S)
        self.speech_started.clear()
        self.speech_ended.clear()

    async def keys(self, count: int) -> None:
        """Wait until `count` DTMF digits have arrived."""
        async with asyncio.timeout(WAIT_S):
            while len(self.dtmf) < count:
                self.key_pressed.clear()
                await self.key_pressed.wait()

    async def read(self) -> None:
        """Check every message after `start` and track the customer's speech."""
        try:
            async for raw in self.ws:
                assert isinstance(raw, str), "Twilio sends JSON text frames"
                message = json.loads(raw)
                self._check_sequence(message)
                if message["event"] != "media":
                    self.received.append((time.monotonic(), message))
                getattr(self, f"_on_{message['event']}")(message)
        except AssertionError as error:
            self.failures.append(f"assertion: {error}")

    def _check_sequence(self, message: dict[str, Any]) -> None:
        self._sequence += 1
        assert message["sequenceNumber"] == str(self._sequence), message
        assert message["streamSid"] == STREAM_SID

    def _on_media(self, message: dict[str, Any]) -> None:
        assert set(message) == {"event", "sequenceNumber", "streamSid", "media"}
        media = message["media"]
        assert set(media) == {"track", "chunk", "timestamp", "payload"}
        assert media["track"] == "inbound"
        self.media_frames += 1
        assert media["chunk"] == str(self.media_frames)
        assert media["timestamp"] == str((self.media_frames - 1) * 20)
        ulaw = base64.b64decode(media["payload"], validate=True)
        assert len(ulaw) == 160
        loud = rms(ulaw_to_pcm(ulaw)) > SPEECH_RMS
        if loud and not self.speech_started.is_set():
            self.speech_started_at = time.monotonic()
            self.speech_started.set()
        if self.speech_started.is_set():
            self._quiet = 0 if loud else self._quiet + 1
            if self._quiet >= QUIET_FRAMES_TO_END:
                self.speech_ended.set()

    def _on_mark(self, message: dict[str, Any]) -> None:
        assert set(message) == {"event", "sequenceNumber", "streamSid", "mark"}
        self.mark_echoes[message["mark"]["name"]] = time.monotonic()

    def _on_dtmf(self, message: dict[str, Any]) -> None:
        assert set(message) == {"event", "sequenceNumber", "streamSid", "dtmf"}
        assert message["dtmf"]["track"] == "inbound_track"
        self.dtmf.append(message["dtmf"]["digit"])
        self.key_pressed.set()

    def _on_stop(self, message: dict[str, Any]) -> None:
        assert message["stop"] == {"accountSid": ACCOUNT_SID, "callSid": CALL_SID}
        assert set(message) == {"event", "sequenceNumber", "streamSid", "stop"}
        self.stop = message


Behaviour = Callable[[BotSession], Awaitable[None]]


@dataclass
class FakeBot:
    url: str
    sessions: list[BotSession]

    @property
    def session(self) -> BotSession:
        assert len(self.sessions) == 1
        return self.sessions[0]


@contextlib.asynccontextmanager
async def fake_bot(behaviour: Behaviour, *, speed: float) -> AsyncIterator[FakeBot]:
    """Serve one behaviour per connection on 127.0.0.1; handshake checks run before it."""
    sessions: list[BotSession] = []

    async def handler(ws: ServerConnection) -> None:
        session = BotSession(ws, speed)
        sessions.append(session)
        try:
            await _check_opening(ws)
            reader = asyncio.create_task(session.read())
            with contextlib.suppress(ConnectionClosed):
                await behaviour(session)
            await ws.close()
            await reader
        except Exception as error:  # reported to the test, not lost in the server log
            session.failures.append(repr(error))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield FakeBot(f"ws://127.0.0.1:{port}/media", sessions)


async def _check_opening(ws: ServerConnection) -> None:
    assert ws.request is not None
    assert ws.request.headers["User-Agent"] == "Twilio.TmeWs/1.0"
    assert json.loads(await ws.recv()) == {
        "event": "connected",
        "protocol": "Call",
        "version": "1.0.0",
    }
    assert json.loads(await ws.recv()) == {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": STREAM_SID,
        "start": {
            "accountSid": ACCOUNT_SID,
            "streamSid": STREAM_SID,
            "callSid": CALL_SID,
            "tracks": ["inbound"],
            "customParameters": PARAMETERS,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }


async def _sleep_until(deadline: float) -> None:
    await asyncio.sleep(max(deadline - time.monotonic(), 0))


async def place_call(
    bot: FakeBot, persona: Persona, *, speed: float, line_ended: asyncio.Event | None = None
) -> SimulatorResult:
    call = run_persona(
        bot.url,
        persona,
        call_sid=CALL_SID,
        stream_sid=STREAM_SID,
        account_sid=ACCOUNT_SID,
        custom_parameters=PARAMETERS,
        speed=speed,
        line_ended=line_ended,
    )
    return await asyncio.wait_for(call, 60)
