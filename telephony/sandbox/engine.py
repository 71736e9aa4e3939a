"""The life of one sandbox call, the same on every vendor; each vendor module says it its way.

A call is placed (REST), progresses through the vendor's status callbacks, rings, is
answered (or is busy, or rings out), runs Breeze's answer document (a media stream to a
scripted customer, or a bridge such as a transfer's `<Dial>`), and ends with a terminal
callback carrying its duration. A REST hang-up or transfer interrupts whatever is running.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import logging
import math
import time
import uuid
import wave
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final
from xml.etree import ElementTree

import aiohttp
import numpy as np

from telephony.providers.simulator.audio import PHONE_RATE, synthesize
from telephony.providers.simulator.client import SimulatorResult, run_persona
from telephony.providers.simulator.persona import PERSONAS, Persona, Step
from telephony.sandbox.numbers import Fate

logger = logging.getLogger(__name__)

# Breeze's own statuses for the words each vendor uses; the engine speaks Twilio's.
TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass(frozen=True)
class SandboxConfig:
    """How the sandbox behaves.

    `breeze_url` is where Breeze is reached for what a vendor's console would hold (Exotel's
    flow applets); callbacks go to the URLs Breeze put in each request.
    """

    breeze_url: str
    persona: str = "cod-confirm"
    ring_seconds: float = 1.0
    step_seconds: float = 0.1
    bridge_seconds: float = 2.0
    # How long answering-machine detection listens before its verdict (Twilio: 2-5 s).
    detection_seconds: float = 2.5
    speed: float = 1.0

    def __post_init__(self) -> None:
        if self.persona not in PERSONAS:
            raise ValueError(f"unknown persona {self.persona!r}")


@dataclass(frozen=True)
class Stream:
    """Connect the customer to this media websocket with these start parameters."""

    url: str
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bridge:
    """The line is connected to something that is not Breeze (a dialled agent, a conference)."""

    what: str


Answer = Stream | Bridge | None


@dataclass
class Delivery:
    """One request the sandbox made to Breeze, when, and how Breeze answered it.

    `status` is None until Breeze answers, and stays None if Breeze was unreachable.
    """

    kind: str
    method: str
    url: str
    status: int | None
    at: float
    # Sent and not yet answered (nor given up on).
    pending: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "at": round(self.at, 3),
        }


@dataclass
class SandboxCall:
    provider: str
    sid: str
    account: str
    # The auth token the call was placed with: what the vendor signs its callbacks with.
    secret: str
    to: str
    caller: str
    fate: Fate
    placement: Mapping[str, Any]
    status: str = "queued"
    created: float = field(default_factory=time.monotonic)
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    answered: float | None = None
    ended: float | None = None
    ended_by: str = ""
    # The final callback has been sent: nothing more will happen to the call.
    finished: bool = False
    deliveries: list[Delivery] = field(default_factory=list)
    conversation: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    # The sandbox's address as the client reached it (for URLs it hands out: recordings).
    origin: str = ""
    # Set when the call is recorded: where the vendor announces the file, and the file
    # (what the customer heard, 8 kHz mono) once the call has ended.
    record_callback: str = ""
    recording_sid: str = ""
    audio: bytearray = field(default_factory=bytearray)
    # What a REST request asked of the live call: hang up, or run a new document.
    hung_up: bool = False
    redirect: Answer = None
    interrupt: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def duration(self) -> int:
        """Whole seconds from answer to end, rounded up as vendors bill them."""
        if self.answered is None:
            return 0
        end = self.ended if self.ended is not None else time.monotonic()
        return math.ceil(end - self.answered)

    @property
    def live(self) -> bool:
        return self.status not in TERMINAL

    def elapsed(self) -> float:
        return time.monotonic() - self.created

    def hang_up(self, *, by: str) -> None:
        if self.live and not self.hung_up:
            self.hung_up = True
            self.ended_by = by
            self.interrupt.set()

    def run_next(self, answer: Answer) -> None:
        """Replace what the live call is doing (a transfer): the stream, if any, stops."""
        self.redirect = answer
        self.interrupt.set()

    def summary(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "sid": self.sid,
            "to": self.to,
            "from": self.caller,
            "fate": str(self.fate),
            "status": self.status,
            "duration": self.duration if not self.live else None,
            # Over only once Breeze has answered every callback: one may be answered after
            # the final status it caused (a REST hang-up made while answering it).
            "finished": self.finished and not any(d.pending for d in self.deliveries),
            "ended_by": self.ended_by,
            "deliveries": [delivery.as_dict() for delivery in self.deliveries],
            "conversation": self.conversation,
            "recording": self.recording_sid or None,
            "problems": list(self.problems),
        }


def new_sid(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex


class Vendor:
    """One vendor's dialect of the call's life; subclasses override what their vendor does."""

    name: ClassVar[str] = ""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def notify(self, call: SandboxCall, status: str) -> None:
        """Tell Breeze the call moved to `status` (Twilio's words), if the vendor would."""

    async def answer(self, call: SandboxCall) -> Answer:
        """Fetch Breeze's answer document for the answered call and read what it asks."""
        raise NotImplementedError

    async def after_stream(self, call: SandboxCall) -> Answer:
        """What runs once the media stream ended by itself (the document's next verb)."""
        return None

    async def recorded(self, call: SandboxCall) -> None:
        """Announce the call's recording to `call.record_callback`, as the vendor does."""

    def detects_machines(self, call: SandboxCall) -> bool:
        """Whether the placement asked for asynchronous answering-machine detection."""
        return False

    async def machine_verdict(self, call: SandboxCall) -> None:
        """Report who answered (a person, or `call.fate` MACHINE) to the detection callback."""

    def stream_ids(self, call: SandboxCall) -> tuple[str, str]:
        """(call id, stream id) as the vendor's `start` message names them."""
        return call.sid, new_sid("MZ")


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.calls: dict[str, SandboxCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._http

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None:
            await self._http.close()

    def start(self, vendor: Vendor, call: SandboxCall) -> None:
        self.calls[call.sid] = call
        self.spawn(self._run(vendor, call))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the current request is answered, as the vendor does."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(
        self,
        call: SandboxCall,
        *,
        kind: str,
        method: str,
        url: str,
        form: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int | None, str]:
        """Make one request to Breeze and record it; (None, reason) if Breeze was unreachable."""
        if not url:
            call.problems.append(f"{kind}: no URL to send it to")
            return None, ""
        options: dict[str, Any] = {"headers": dict(headers or {})}
        if method == "GET":
            options["params"] = dict(form or {})
        elif body is not None:
            options["json"] = body
        else:
            options["data"] = dict(form or {})
        # Recorded in the order sent, as the vendor numbers them: Breeze may answer one
        # callback after a later one (a REST hang-up made while answering the first).
        delivery = Delivery(kind, method, url, None, call.elapsed())
        call.deliveries.append(delivery)
        try:
            async with self.http.request(method, url, **options) as response:
                text = await response.text()
                status: int | None = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            status, text = None, f"{type(error).__name__}: {error}"
        delivery.status, delivery.pending = status, False
        logger.info("%s %s: %s %s → %s", call.provider, call.sid, kind, url, status)
        if status is None or status >= 400:
            call.problems.append(f"{kind}: Breeze answered {status or text}")
        return status, text

    # The life of a call.

    async def _run(self, vendor: Vendor, call: SandboxCall) -> None:
        try:
            final = await self._progress(vendor, call)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.exception("%s %s: the sandbox failed", call.provider, call.sid)
            call.problems.append(f"sandbox error: {type(error).__name__}: {error}")
            final = "failed"
        call.ended = time.monotonic()
        call.status = final
        await vendor.notify(call, final)
        if call.record_callback and call.answered is not None:
            await vendor.recorded(call)
        call.finished = True

    async def _progress(self, vendor: Vendor, call: SandboxCall) -> str:
        config = self.config
        for status in ("initiated", "ringing"):
            if await self._wait(call, config.step_seconds):
                return "canceled"
            call.status = status
            await vendor.notify(call, status)
        if await self._wait(call, config.ring_seconds):
            return "canceled"
        if call.fate is Fate.BUSY:
            return "busy"
        if call.fate is Fate.FAILED:
            return "failed"
        if call.fate is Fate.NO_ANSWER:
            return "no-answer"
        call.answered = time.monotonic()
        call.status = "in-progress"
        await vendor.notify(call, "in-progress")
        step: Answer = await vendor.answer(call)
        while step is not None and not call.hung_up:
            step = await self._play(vendor, call, step)
        if not call.ended_by:
            call.ended_by = "customer" if call.conversation else "document"
        return "completed"

    async def _wait(self, call: SandboxCall, seconds: float) -> bool:
        """Sleep `seconds`; True if the call was hung up meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.interrupt.wait(), seconds)
        return call.hung_up

    async def _play(self, vendor: Vendor, call: SandboxCall, step: Stream | Bridge) -> Answer:
        call.interrupt.clear()
        if isinstance(step, Bridge):
            await self._wait(call, self.config.bridge_seconds)
        else:
            await self._converse(vendor, call, step)
        if call.redirect is not None:
            step, call.redirect = call.redirect, None
            return step
        if isinstance(step, Stream) and not call.hung_up:
            return await vendor.after_stream(call)
        return None

    async def _converse(self, vendor: Vendor, call: SandboxCall, stream: Stream) -> None:
        call_id, stream_id = vendor.stream_ids(call)
        persona = MACHINE if call.fate is Fate.MACHINE else PERSONAS[self.config.persona]
        detection = (
            asyncio.create_task(self._detect(vendor, call))
            if vendor.detects_machines(call)
            else None
        )
        try:
            result = await run_persona(
                stream.url,
                persona,
                call_sid=call_id,
                stream_sid=stream_id,
                account_sid=call.account,
                custom_parameters=stream.parameters,
                speed=self.config.speed,
                protocol=vendor.name,
                # A REST hang-up or transfer stops the stream as the vendor does: stop, close.
                line_ended=call.interrupt,
            )
        except Exception as error:
            call.problems.append(f"media stream: {type(error).__name__}: {error}")
            call.conversation = {"error": str(error)}
            return
        finally:
            if detection is not None:
                detection.cancel()
        call.conversation = conversation_summary(result)
        call.audio += await asyncio.to_thread(line_audio, result)
        if result.hung_up_by in ("bot", "customer"):
            call.ended_by = call.ended_by or str(result.hung_up_by)

    async def _detect(self, vendor: Vendor, call: SandboxCall) -> None:
        """The detection verdict after it has listened a while, if the stream still runs.

        Once sent, the verdict is the vendor's own request: the stream ending (Breeze hanging
        up while it answers the verdict) does not take it back.
        """
        await asyncio.sleep(self.config.detection_seconds)
        self.spawn(vendor.machine_verdict(call))


# Who answers a MACHINE number: a greeting, then it records whatever is said.
MACHINE: Final = Persona(
    name="answering-machine",
    description="Greets, then records.",
    steps=(
        Step(say="please leave a message after the tone", wait_for_bot=False),
        Step(silence_ms=60_000, wait_for_bot=False),
    ),
)


def line_audio(result: SimulatorResult) -> bytes:
    """The stream as a mono recording hears it: both sides at their call-time offsets.

    8 kHz 16-bit PCM as long as the stream; the customer's lines are the same synthesized
    speech the persona sent (cached), the bot's what the customer heard of it.
    """
    line = np.zeros(round(result.duration_s * PHONE_RATE), dtype=np.int32)
    spoken = [(turn.start, turn.pcm) for turn in result.bot_turns] + [
        (turn.start, synthesize(turn.text)) for turn in result.customer_turns
    ]
    for start, pcm in spoken:
        offset = round(start * PHONE_RATE)
        samples = np.frombuffer(pcm, dtype="<i2")[: max(len(line) - offset, 0)]
        line[offset : offset + len(samples)] += samples
    clipped: bytes = np.clip(line, -32768, 32767).astype("<i2").tobytes()
    return clipped


def wav_bytes(pcm: bytes) -> bytes:
    """8 kHz 16-bit mono PCM as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(PHONE_RATE)
        wav.writeframes(pcm)
    return out.getvalue()


def recording_of(calls: Mapping[str, SandboxCall], sid: str) -> SandboxCall | None:
    return next((call for call in calls.values() if call.recording_sid == sid), None)


def document_root(call: SandboxCall, text: str) -> ElementTree.Element | None:
    """Breeze's answer document (TwiML, Plivo XML), or None (noted) if it is not XML."""
    try:
        # Breeze's own answer on the developer's machine, not untrusted input.
        return ElementTree.fromstring(text)  # noqa: S314
    except ElementTree.ParseError:
        call.problems.append(f"answer: not XML: {text[:80]!r}")
        return None


def bridge_or_hang_up(root: ElementTree.Element, *, alongside: tuple[str, ...] = ()) -> Answer:
    """A document without a stream: hanging up, or the line bridged elsewhere (Dial, Say…)."""
    verbs = [child.tag for child in root if child.tag not in alongside]
    if not verbs or verbs[0] in ("Hangup", "Reject"):
        return None
    return Bridge(what=" ".join(verbs))


def conversation_summary(result: SimulatorResult) -> dict[str, Any]:
    return {
        "persona": result.persona,
        "hung_up_by": result.hung_up_by,
        "customer_turns": [turn.text for turn in result.customer_turns],
        "bot_turns": len(result.bot_turns),
        "marks_echoed": result.marks_echoed,
        "errors": list(result.errors),
        "seconds": round(result.duration_s, 2),
    }
