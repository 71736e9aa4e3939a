"""Platform overhead per turn, with the speech providers replaced by fixed-delay ones.

Run: .venv/bin/python bench/turn_overhead.py [--calls 3] [--turns 40] [--quick] [--cpu]

`--cpu` measures the call's CPU instead of its latency: the process's CPU time (user + sys,
all threads, from `resource.getrusage`) from building the call's pipeline to its end, per
call-minute of streamed audio, without the bench's own stage observer. CPU time hardly
depends on the machine's load, unlike wall time.

The call's pipeline is the worker's own (`build_call_session`: Twilio serializer, relay
transport with its output pacing, Silero VAD and turn detection, context aggregators, the
template's flow) with STT, LLM and TTS from the registry's `fixed_delay` providers, which
wait a known time and do no work. A customer streams Twilio `media` messages into it in real
time (20 ms frames: silence, then a spoken line, then silence) and the bot's outbound
messages are captured where the worker would hand them to the relay.

What "end of customer speech" means here: the VAD decides the customer stopped only after
`stop_secs` of quiet, a configured wait and not platform overhead. So each turn is timed
from the arrival of the media frame whose analysis made the VAD declare the end of speech
(the frame that completed the configured silence; found by counting the frames the VAD
analysed) to the first outbound `media` message of the answer, and the providers' fixed
delays (STT + LLM + TTS) are subtracted:

    overhead = first bot audio out - arrival of the VAD's deciding frame - fixed delays

That includes everything the platform does after the frame arrives: deserialising, the
audio queue, the VAD's own compute, frame passing, the turn strategies, the flow, the
output transport and serializer. It excludes the two relay hops around the worker (about
0.1 ms each, bench/relay_transports.py; they are in bench/concurrency.py's figures).
For comparison it also prints the cruder "first audio - last speech frame - stop_secs -
delays", which adds the VAD's resolution (its 32 ms windows fed by 20 ms frames, and
Silero's own decay after speech) to the platform's share.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import importlib
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.test")

STT_MS, LLM_MS, TTS_MS = 100, 150, 50
FIXED_DELAY_S = (STT_MS + LLM_MS + TTS_MS) / 1000
BOT_AUDIO_MS = 300
STOP_SECS = 0.3  # shorter than the template's 0.8 s only to fit more turns in a run
FRAME_S = 0.02
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit PCM
LINE = "yes please"
START = {
    "event": "start",
    "sequenceNumber": "1",
    "streamSid": "MZbench",
    "start": {"streamSid": "MZbench", "callSid": "CAbench", "accountSid": "ACbench"},
}


def _setup() -> None:
    import django

    django.setup()


def fixed_delay_config(
    definition: dict[str, Any], *, bot_audio_ms: int = BOT_AUDIO_MS
) -> dict[str, Any]:
    """The template's call config with fixed-delay speech providers and a short VAD stop."""
    return {
        "stt": {"provider": "fixed_delay", "options": {"delay_ms": STT_MS, "text": "hmm"}},
        "llm": {
            "provider": "fixed_delay",
            "options": {"delay_ms": LLM_MS, "text": "Sorry, could you say that again?"},
        },
        "tts": {
            "provider": "fixed_delay",
            "options": {"delay_ms": TTS_MS, "audio_ms": bot_audio_ms},
        },
        "vad": {**definition["vad"], "stop_secs": STOP_SECS},
        **{key: definition[key] for key in ("interruption", "user_idle") if key in definition},
    }


def media_message(ulaw: bytes) -> str:
    return json.dumps(
        {
            "event": "media",
            "streamSid": "MZbench",
            "media": {"track": "inbound", "payload": base64.b64encode(ulaw).decode()},
        }
    )


@functools.cache
def speech_frames(text: str) -> tuple[str, ...]:
    """The customer's line as Twilio media messages, with no silence before or after it.

    Synthesised once per run (loading the voice and synthesising cost about 0.6 s of CPU),
    before any call's CPU is measured.
    """
    return tuple(media_message(frame) for frame in speech_payloads(text))


def speech_payloads(text: str) -> list[bytes]:
    """The customer's line as 20 ms μ-law frames, with no silence before or after it."""
    import numpy as np

    from telephony.providers.simulator.audio import FRAME_SAMPLES, pcm_to_ulaw, synthesize

    samples = np.frombuffer(synthesize(text), dtype="<i2")
    # Keep only the spoken part (samples within 40 dB of the peak), so the last frame sent
    # is the end of speech.
    loud = np.flatnonzero(np.abs(samples) > np.abs(samples).max() / 100)
    ulaw = pcm_to_ulaw(samples[loud[0] : loud[-1] + 1].tobytes())
    ulaw += b"\xff" * (-len(ulaw) % FRAME_SAMPLES)
    return [ulaw[i : i + FRAME_SAMPLES] for i in range(0, len(ulaw), FRAME_SAMPLES)]


@dataclass
class VadTrace:
    """Counts the 20 ms frames the VAD analyses and when it declares the end of speech.

    While the line is quiet the transport hands it 60 ms at a time, so frames are counted
    by length; the end of speech is decided on a single frame, which is the last one counted.
    """

    analysed: int = 0
    stops: list[tuple[int, float]] = field(default_factory=list)

    def install(self) -> None:
        from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADState

        original = VADAnalyzer._run_analyzer
        trace = self

        def traced(analyzer: VADAnalyzer, buffer: bytes) -> VADState:
            before = analyzer._vad_state
            state = original(analyzer, buffer)
            trace.analysed += len(buffer) // FRAME_BYTES
            if before == VADState.STOPPING and state == VADState.QUIET:
                trace.stops.append((trace.analysed - 1, time.perf_counter()))
            return state

        VADAnalyzer._run_analyzer = traced  # type: ignore[method-assign,assignment]


@dataclass
class Turn:
    overhead_ms: float
    to_vad_ms: float
    crude_ms: float
    stages_ms: dict[str, float]


STAGES = ("transcript", "context", "llm_text", "tts_audio", "sent")
# The fixed delay each stage contains, subtracted to leave the platform's share.
STAGE_DELAYS = {"transcript": STT_MS, "llm_text": LLM_MS, "tts_audio": TTS_MS}


def stage_observer(marks: list[dict[str, float]]) -> Any:
    """When each stage of an answer first happened after a VAD stop (perf_counter times)."""
    from templates_app.pipecat_compat import (
        BaseObserver,
        FramePushed,
        LLMContextFrame,
        LLMTextFrame,
        TranscriptionFrame,
        TTSAudioRawFrame,
        VADUserStoppedSpeakingFrame,
    )

    kinds = (
        (VADUserStoppedSpeakingFrame, "vad"),
        (TranscriptionFrame, "transcript"),
        (LLMContextFrame, "context"),
        (LLMTextFrame, "llm_text"),
        (TTSAudioRawFrame, "tts_audio"),
    )

    class Stages(BaseObserver):
        async def on_push_frame(self, data: FramePushed) -> None:
            now = time.perf_counter()
            for kind, name in kinds:
                if isinstance(data.frame, kind):
                    if name == "vad":
                        # Broadcast both ways: the first copy of each stop counts.
                        if not marks or len(marks[-1]) > 1:
                            marks.append({"vad": now})
                    elif marks and name not in marks[-1]:
                        marks[-1][name] = now

    return Stages()


@dataclass
class Call:
    """What one call fed and heard, in perf_counter seconds."""

    arrivals: list[float] = field(default_factory=list)  # each frame fed, by index
    speech_ends: list[int] = field(default_factory=list)  # each turn's last speech frame
    bot_media: list[float] = field(default_factory=list)  # each outbound media message
    marks: list[dict[str, float]] = field(default_factory=list)  # stages after each VAD stop


def _context() -> Any:
    from calls.selectors import CallContext
    from config.call_config import EffectiveConfig
    from templates_app.demo import demo_definition
    from templates_app.flows.factory import FlowInputs

    definition = demo_definition("order-confirmation")
    return CallContext(
        call_id=0,
        provider="simulator",
        time_zone="Asia/Kolkata",
        inputs=FlowInputs(
            definition=definition,
            variables={"customer_name": "Asha", "order_id": "A1", "order_total": "10"},
            config=EffectiveConfig(base=fixed_delay_config(definition), playground={}),
        ),
        credentials={},
    )


async def _converse(call: Call, inbound: asyncio.Queue[str | None], turns: int) -> None:
    """Stream the customer in real time: silence, and the line whenever the bot has answered."""
    line = speech_frames(LINE)
    silence = media_message(b"\xff" * 160)
    pending: list[str] = []
    began = time.perf_counter()
    while True:
        due = began + len(call.arrivals) * FRAME_S
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        now = time.perf_counter()
        bot = call.bot_media
        bot_quiet = bool(bot) and now - bot[-1] > 0.3
        answered = not call.speech_ends or (
            bool(bot) and bot[-1] > call.arrivals[call.speech_ends[-1]]
        )
        if not pending and bot_quiet and answered:
            if len(call.speech_ends) == turns:
                return
            pending = list(line)
        message = pending.pop(0) if pending else silence
        inbound.put_nowait(message)
        call.arrivals.append(time.perf_counter())
        if message is not silence and not pending:
            call.speech_ends.append(len(call.arrivals) - 1)
        if now - began > 30 + turns * 5:
            raise RuntimeError("the bot stopped answering")


async def one_call(
    turns: int,
    trace: VadTrace,
    *,
    on_session: Callable[[Any], Any] | None = None,
    stages: bool = True,
) -> list[Turn]:
    from calls.voice.pipeline import build_call_session
    from calls.voice.serializers import build_serializer
    from calls.voice.transport import QUIET_FRAMES_PER_PUSH
    from templates_app.pipecat_compat import EndFrame, WorkerRunner

    call = Call()
    inbound: asyncio.Queue[str | None] = asyncio.Queue()

    async def send(payload: str | bytes) -> None:
        now = time.perf_counter()
        if json.loads(payload).get("event") == "media":
            call.bot_media.append(now)

    session = build_call_session(
        _context(),
        serializer=build_serializer("simulator", START, credentials={}),
        inbound=inbound,
        send=send,
    )
    if stages:
        session.worker.add_observer(stage_observer(call.marks))
    if on_session is not None:
        on_session(session)
    ready = asyncio.Event()

    async def started(_worker: object, _frame: object) -> None:
        ready.set()

    session.worker.add_event_handler("on_pipeline_started", started)
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(session.worker)
    running = asyncio.create_task(runner.run())
    await ready.wait()
    first_frame = trace.analysed
    await _converse(call, inbound, turns)
    await session.worker.queue_frame(EndFrame())
    await running
    # Up to two quiet frames may still be held back for the next push when the call ends.
    analysed = trace.analysed - first_frame
    if not 0 <= len(call.arrivals) - analysed < QUIET_FRAMES_PER_PUSH:
        raise RuntimeError(f"fed {len(call.arrivals)} frames; the VAD analysed {analysed}")
    if not stages:
        return []
    stops = [(index - first_frame, when) for index, when in trace.stops if index >= first_frame]
    return [
        _turn(call, end, mark, stops)
        for end, mark in zip(call.speech_ends, call.marks, strict=True)
    ]


def _turn(call: Call, end: int, mark: dict[str, float], stops: list[tuple[int, float]]) -> Turn:
    decided = next(((i, t) for i, t in stops if i > end), None)
    reply = next((t for t in call.bot_media if t > call.arrivals[end]), None)
    if decided is None or reply is None:
        raise RuntimeError(f"turn ending at frame {end} got no VAD stop or no answer")
    index, vad_time = decided
    mark["sent"] = reply
    stages, previous = {}, vad_time
    for stage in STAGES:
        stages[stage] = (mark[stage] - previous) * 1000 - STAGE_DELAYS.get(stage, 0)
        previous = mark[stage]
    # A media frame is sent when its 20 ms have been captured, so the last speech frame's
    # arrival is the end of speech.
    return Turn(
        overhead_ms=(reply - call.arrivals[index] - FIXED_DELAY_S) * 1000,
        to_vad_ms=(vad_time - call.arrivals[index]) * 1000,
        crude_ms=(reply - call.arrivals[end] - STOP_SECS - FIXED_DELAY_S) * 1000,
        stages_ms=stages,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def print_cpu(call: Callable[[], object]) -> None:
    """One call's CPU time (all threads) per minute of the call, as % of a core."""
    cpu, began = cpu_seconds(), time.perf_counter()
    call()
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - began
    print(
        f"call: {wall:.1f} s, CPU {cpu:.2f} s = {cpu / wall * 60:.2f} CPU s per call-minute "
        f"({cpu / wall * 100:.1f} % of a core)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--turns", type=int, default=40, help="turns per call")
    parser.add_argument("--quick", action="store_true", help="one call of 15 turns")
    parser.add_argument("--cpu", action="store_true", help="CPU per call-minute, not latency")
    arguments = parser.parse_args()
    calls, turns = (1, 15) if arguments.quick else (arguments.calls, arguments.turns)
    _setup()
    from loguru import logger

    # Imported before any call is measured, as in a warm worker (the first call paid ~0.3 s
    # of CPU for this import before).
    importlib.import_module("calls.voice.pipeline")
    from calls.voice.speech import registry

    # A worker logs Pipecat's debug lines; format them as it does, but not onto this screen.
    logger.remove()
    logger.add(Path(os.devnull).open("w"), level="DEBUG")  # noqa: SIM115 - for the whole run

    trace = VadTrace()
    trace.install()
    samples: list[Turn] = []
    speech_frames(LINE)
    for _ in range(calls):
        registry.warm_up()  # a real worker serves one call with a freshly loaded analyzer
        if arguments.cpu:
            print_cpu(lambda: asyncio.run(one_call(turns, trace, stages=False)))
        else:
            samples += asyncio.run(one_call(turns, trace))
    if arguments.cpu:
        return

    overhead = [turn.overhead_ms for turn in samples]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {len(samples)} turns")
    print(
        f"fixed delays: STT {STT_MS} + LLM {LLM_MS} + TTS {TTS_MS} ms; "
        f"VAD stop_secs {STOP_SECS} s (excluded)"
    )
    for name, values in (
        ("overhead per turn", overhead),
        ("  frame arrives -> VAD decides", [turn.to_vad_ms for turn in samples]),
        *(
            (f"  -> {stage} (less its delay)", [turn.stages_ms[stage] for turn in samples])
            for stage in STAGES
        ),
        ("crude (incl. VAD resolution)", [turn.crude_ms for turn in samples]),
    ):
        print(
            f"{name:<34} median {statistics.median(values):6.1f} ms   "
            f"p99 {percentile(values, 0.99):6.1f} ms   max {max(values):6.1f} ms"
        )
    print(
        f"target median <= 10 ms: {'met' if statistics.median(overhead) <= 10 else 'missed'}; "
        f"p99 <= 30 ms: {'met' if percentile(overhead, 0.99) <= 30 else 'missed'}"
    )


if __name__ == "__main__":
    main()
