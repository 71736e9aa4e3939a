"""How many simultaneous simulated calls this machine sustains, and each worker's memory.

Run: .venv/bin/python bench/concurrency.py [--steps 10,20,30,40] [--seconds 20] [--quick]
     [--pool fork|fresh] [--speech shared|in-process]

The real stack runs as separate processes, as in the end-to-end tests: Daphne (the media
consumer and relay) and the voice pool supervisor with its warm workers; the workers run the
template's real pipeline (Twilio serializer, Silero VAD, turn detection, flow) with the
`fixed_delay` STT/LLM/TTS providers, which stand in for network vendors (they wait and use
no CPU). This process plays the phone provider: for each call it opens the media websocket
and speaks Twilio Media Streams (a 20 ms μ-law frame every 20 ms, a spoken line whenever the
bot has answered), and it records what comes back.

"Delay added to an audio frame" is measured both ways:
- inbound: from the moment the provider has written a `media` frame to its socket to the
  moment that frame comes out of the worker's serializer into the pipeline (consumer, relay,
  worker's event loop). The workers carry bench/frame_probe.py's clock, which notes
  when each frame (by its `chunk` number) leaves the serializer; both clocks are the
  machine's CLOCK_MONOTONIC.
- outbound: how late each bot audio frame reaches the provider against the 20 ms cadence
  the worker paces it at (within one answer, frame k is due 20·k ms after the first).
A step is sustained when the p99 of both stays at or under 20 ms. Inbound frames sent
before a call's first bot audio + 2 s are left out (call setup, and the frames that queued
meanwhile): this measures calls in progress.

The pool is sized to each step before it (size = calls) and its refill is held while the
step's calls run: otherwise the supervisor starts a replacement for every claimed worker at
once, and N model loads (about a second of CPU each) would land inside the measurement. The
refill time between steps is printed instead. Memory: the RSS and PSS of every worker, idle
(warm) and at its peak during its call. Workers are forked from the preloaded supervisor
(`--pool fork`, the default, as `run_voice_pool` does) or started as fresh processes
(`--pool fresh`); forked workers share the imported code and models copy-on-write, which RSS
counts in full in every worker and PSS divides among the processes that share it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from turn_overhead import (  # noqa: E402 - bench/ is the script's own directory
    LLM_MS,
    STOP_SECS,
    STT_MS,
    TTS_MS,
    fixed_delay_config,
    speech_payloads,
)

BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://breeze:breeze@127.0.0.1:5432/breeze_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SIZE_KEY = "bench:pool_size"
FRAME_S = 0.02
BOT_AUDIO_MS = 1000  # long answers: 50 outbound frames each
TARGET_MS = 20.0
# Inbound frames count from this long after a call's first bot audio: by then the frames
# that queued while the pipeline was being built have been worked off.
SETTLE_S = 2.0
MEMORY_EVERY = 10  # CPU readings (0.5 s apart) per memory reading


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "breeze.settings.test",
        "DATABASE_URL": DATABASE_URL,
        "TEST_REDIS_URL": REDIS_URL,
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    }


# --- the stack ------------------------------------------------------------------------


def _prepare_database() -> None:
    import psycopg

    server, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        if not connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks", "-v", "0"],
        cwd=ROOT,
        env=_env(),
        check=True,
    )


def _bench_template() -> Any:
    """A published copy of the order-confirmation demo with fixed-delay speech providers."""
    from config.models import Merchant
    from config.services import merchant_create
    from templates_app.demo import demo_definition
    from templates_app.models import Template
    from templates_app.selectors import template_version_draft
    from templates_app.services import template_create, template_version_publish

    merchant = Merchant.objects.filter(slug="bench").first() or merchant_create(
        name="Bench", slug="bench", time_zone="Asia/Kolkata"
    )
    template = Template.objects.filter(merchant=merchant, slug="fixed-delay").first()
    if template is None:
        definition = demo_definition("order-confirmation")
        definition |= fixed_delay_config(definition, bot_audio_ms=BOT_AUDIO_MS)
        template = template_create(
            merchant=merchant, slug="fixed-delay", name="Fixed delay", definition=definition
        )
        draft = template_version_draft(template=template)
        assert draft is not None
        template_version_publish(version=draft)
    return template.versions.get(status="published")


@contextmanager
def _process(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(args, cwd=ROOT, env=_env(), stdout=output, stderr=output)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait(probe: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _supervise(frame_dir: str, *, fork: bool, speech_server: bool) -> None:
    """The pool supervisor with frame_probe.py's clock in its workers, sized by this bench."""
    import django

    os.environ["BENCH_FRAME_DIR"] = frame_dir
    django.setup()
    from frame_probe import install  # beside this file, on sys.path as the script directory

    from calls.voice import pool
    from calls.voice.supervisor import PoolSupervisor

    if fork:
        install(Path(frame_dir))

    client = pool.sync_client()

    class SteppedSupervisor(PoolSupervisor):
        def _reap(self) -> None:
            super()._reap()
            size = client.get(SIZE_KEY)
            self.size = int(size) if isinstance(size, bytes) else 0

    SteppedSupervisor(
        size=0,
        fork=fork,
        speech_server=speech_server,
        manage=Path(__file__).with_name("frame_probe.py"),
    ).run()


# --- the provider side ----------------------------------------------------------------


def _media(payload: bytes, chunk: int, stream_sid: str) -> str:
    return json.dumps(
        {
            "event": "media",
            "sequenceNumber": str(chunk + 1),
            "streamSid": stream_sid,
            "media": {
                "track": "inbound",
                "chunk": str(chunk),
                "timestamp": str(chunk * 20),
                "payload": base64.b64encode(payload).decode(),
            },
        }
    )


@dataclass
class CallRecord:
    call_sid: str
    sent: dict[int, float] = field(default_factory=dict)  # chunk -> written to the socket
    bot: list[float] = field(default_factory=list)  # bot media arrivals
    speech_ends: list[float] = field(default_factory=list)
    error: str = ""


async def _call(
    url: str, token: str, record: CallRecord, seconds: float, line: list[bytes]
) -> None:
    from websockets.asyncio.client import connect

    stream_sid = "MZ" + record.call_sid[2:]
    silence = b"\xff" * 160
    async with connect(url, compression=None, max_size=2**20) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        start = {
            "streamSid": stream_sid,
            "callSid": record.call_sid,
            "accountSid": "ACbench",
            "tracks": ["inbound"],
            "customParameters": {"token": token},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }
        await ws.send(json.dumps({"event": "start", "streamSid": stream_sid, "start": start}))

        async def receive() -> None:
            async for message in ws:
                if '"media"' in message:
                    record.bot.append(time.monotonic())

        receiver = asyncio.create_task(receive())
        pending: list[bytes] = []
        began = time.monotonic()
        chunk = 0
        while time.monotonic() - began < seconds:
            chunk += 1
            await asyncio.sleep(max(0.0, began + chunk * FRAME_S - time.monotonic()))
            now = time.monotonic()
            quiet = bool(record.bot) and now - record.bot[-1] > 0.3
            answered = not record.speech_ends or record.bot[-1] > record.speech_ends[-1]
            if not pending and quiet and answered:
                pending = list(line)
            payload = pending.pop(0) if pending else silence
            await ws.send(_media(payload, chunk, stream_sid))
            record.sent[chunk] = time.monotonic()
            if payload is not silence and not pending:
                record.speech_ends.append(record.sent[chunk])
        await ws.send(json.dumps({"event": "stop", "streamSid": stream_sid, "stop": {}}))
        await ws.close()
        receiver.cancel()


async def _place_calls(base: str, calls: list[tuple[int, str]], seconds: float) -> list[CallRecord]:
    line = speech_payloads("yes please")
    records = [CallRecord(f"CA{pk:032d}") for pk, _ in calls]

    async def one(index: int) -> None:
        pk, token = calls[index]
        await asyncio.sleep(index * 1.0 / len(calls))  # spread the starts over a second
        try:
            await _call(f"{base}/ws/media/simulator/{pk}/", token, records[index], seconds, line)
        except Exception as error:  # a failed call is reported, not hidden
            records[index].error = repr(error)

    await asyncio.gather(*(one(index) for index in range(len(calls))))
    return records


# --- measuring ------------------------------------------------------------------------


@dataclass
class Sampler:
    """Samples the RSS of every worker and the CPU of the stack, once a second."""

    supervisor: int
    peak_rss: dict[int, int] = field(default_factory=dict)
    peak_pss: dict[int, int] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)  # latest user+system seconds seen
    stop: threading.Event = field(default_factory=threading.Event)

    def workers(self) -> list[Any]:
        return [child for child in self._children() if not _is_speech_server(child)]

    def speech_server(self) -> Any | None:
        return next(filter(_is_speech_server, self._children()), None)

    def _children(self) -> list[Any]:
        import psutil  # type: ignore[import-untyped]

        try:
            return list(psutil.Process(self.supervisor).children())
        except psutil.NoSuchProcess:
            return []

    def run(self) -> None:
        import psutil

        rounds = 0
        while True:
            # PSS walks every page of a worker (about 10 ms of kernel CPU for each), so memory
            # is read every 5 s, not with every CPU reading: at 40 workers twice a second it
            # took a fifth of a core from the calls being measured.
            with_memory = rounds % MEMORY_EVERY == 0
            rounds += 1
            for worker in self.workers():
                try:
                    times = worker.cpu_times()
                    memory = worker.memory_full_info() if with_memory else None
                except psutil.NoSuchProcess:
                    continue
                self.cpu[worker.pid] = times.user + times.system
                if memory is not None:
                    self.peak_rss[worker.pid] = max(memory.rss, self.peak_rss.get(worker.pid, 0))
                    self.peak_pss[worker.pid] = max(memory.pss, self.peak_pss.get(worker.pid, 0))
            if self.stop.wait(0.5):
                return


def _is_speech_server(process: Any) -> bool:
    import psutil

    try:
        return "run_speech_server" in process.cmdline()
    except psutil.NoSuchProcess:
        return False


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _inbound_delays(records: list[CallRecord], frame_dir: Path) -> list[float]:
    delays = []
    for record in records:
        path = frame_dir / f"{record.call_sid}.json"
        if not record.bot or not path.exists():
            continue
        in_call = record.bot[0] + SETTLE_S
        for chunk, arrived in json.loads(path.read_text()):
            sent = record.sent.get(chunk)
            if sent is not None and sent >= in_call:
                delays.append((arrived - sent) * 1000)
    return delays


def _answers(arrivals: list[float]) -> list[list[float]]:
    """Bot media arrivals split into answers (a gap of over 100 ms starts a new one)."""
    answers: list[list[float]] = []
    for arrived in arrivals:
        if not answers or arrived - answers[-1][-1] > 0.1:
            answers.append([])
        answers[-1].append(arrived)
    return answers


def _outbound_lateness(records: list[CallRecord]) -> list[float]:
    """How late each bot frame arrives against its 20 ms slot.

    The worker sends an answer's first frame as a lead and paces the rest every 20 ms from
    the second, so the slots are anchored on the second frame (on the earliest of them).
    """
    late = []
    for record in records:
        for answer in _answers(record.bot):
            paced = [arrived - k * FRAME_S for k, arrived in enumerate(answer[1:])]
            if paced:
                anchor = min(paced)
                late += [(slot - anchor) * 1000 for slot in paced]
    return late


def _answer_overheads(records: list[CallRecord]) -> list[float]:
    fixed = STOP_SECS + (STT_MS + LLM_MS + TTS_MS) / 1000
    overheads = []
    for record in records:
        for end in record.speech_ends:
            reply = next((t for t in record.bot if t > end), None)
            if reply is not None:
                overheads.append((reply - end - fixed) * 1000)
    return overheads


# --- the run --------------------------------------------------------------------------


@dataclass
class Step:
    calls: int
    failed: int
    inbound: list[float]
    outbound: list[float]
    answers: list[float]
    worker_cpu: float
    relay_cpu: float
    # Not per call, % of one core: this process playing the provider, and the supervisor.
    provider_cpu: float
    pool_cpu: float
    machine_cpu: float
    busy_rss_mb: list[float]
    busy_pss_mb: list[float]
    refill_s: float

    @property
    def sustained(self) -> bool:
        return (
            self.failed == 0
            and bool(self.inbound)
            and _percentile(self.inbound, 0.99) <= TARGET_MS
            and _percentile(self.outbound, 0.99) <= TARGET_MS
        )


def _step(
    n: int,
    *,
    seconds: float,
    base: str,
    version: Any,
    frame_dir: Path,
    daphne: int,
    supervisor: int,
) -> Step:
    import psutil
    import redis

    from calls.models import Call
    from calls.services import call_create
    from calls.voice import pool
    from telephony.tokens import media_token_issue

    client = redis.Redis.from_url(REDIS_URL)
    began = time.monotonic()
    client.set(SIZE_KEY, n)
    _wait(lambda: pool.pool_idle_count(client) >= n, timeout=120 + 10 * n, what=f"{n} warm workers")
    refill = time.monotonic() - began
    client.set(SIZE_KEY, 0)  # hold the refill while the calls run
    calls = []
    for _ in range(n):
        call = call_create(
            version=version,
            execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
            provider="simulator",
            customer_phone="+15555550123",
            payload={"customer_name": "Asha", "order_id": "A1", "order_total": "10"},
        )
        calls.append((call.pk, media_token_issue(call=call)))
    sampler = Sampler(supervisor)
    workers = [worker.pid for worker in sampler.workers()]
    watcher = threading.Thread(target=sampler.run, daemon=True)
    watcher.start()
    while len(sampler.cpu) < len(workers):  # every worker's starting CPU time seen
        time.sleep(0.05)
    workers_before, daphne_before = sum(sampler.cpu.values()), _cpu_seconds(daphne)
    provider_before, pool_before = _cpu_seconds(os.getpid()), _cpu_seconds(supervisor)
    psutil.cpu_percent()
    window = time.monotonic()
    # This process is the measuring instrument: a full collection over its growing records
    # would stall its loop and show as late frames that Breeze never delayed.
    gc.disable()
    try:
        records = asyncio.run(_place_calls(base, calls, seconds))
    finally:
        gc.enable()
    machine_cpu = psutil.cpu_percent()
    daphne_cpu = _cpu_seconds(daphne) - daphne_before
    provider_cpu = _cpu_seconds(os.getpid()) - provider_before
    pool_cpu = _cpu_seconds(supervisor) - pool_before
    sampler.stop.set()
    watcher.join()
    elapsed = time.monotonic() - window
    # Per call, in % of one core: a worker's own, and its share of Daphne's.
    worker_cpu = (sum(sampler.cpu[pid] for pid in workers) - workers_before) / elapsed / n * 100
    relay_cpu = daphne_cpu / elapsed / n * 100
    ids = [pk for pk, _ in calls]
    _wait(
        lambda: Call.objects.filter(pk__in=ids, status="ended").count() == n,
        timeout=60,
        what="the step's calls to end",
    )
    _wait(
        lambda: all((frame_dir / f"{r.call_sid}.json").exists() for r in records),
        timeout=60,
        what="the workers' frame notes",
    )
    for error in sorted({record.error for record in records if record.error}):
        print(f"  a call failed: {error}", file=sys.stderr)
    busy = [sampler.peak_rss[pid] / 2**20 for pid in workers if pid in sampler.peak_rss]
    busy_pss = [sampler.peak_pss[pid] / 2**20 for pid in workers if pid in sampler.peak_pss]
    return Step(
        calls=n,
        failed=sum(bool(record.error) or not record.bot for record in records),
        inbound=_inbound_delays(records, frame_dir),
        outbound=_outbound_lateness(records),
        answers=_answer_overheads(records),
        worker_cpu=worker_cpu,
        relay_cpu=relay_cpu,
        provider_cpu=provider_cpu / elapsed * 100,
        pool_cpu=pool_cpu / elapsed * 100,
        machine_cpu=machine_cpu,
        busy_rss_mb=busy,
        busy_pss_mb=busy_pss,
        refill_s=refill,
    )


def _idle_memory_mb(supervisor: int) -> tuple[list[float], list[float]]:
    """(RSS, PSS) of each idle worker."""
    memory = [worker.memory_full_info() for worker in Sampler(supervisor).workers()]
    return [m.rss / 2**20 for m in memory], [m.pss / 2**20 for m in memory]


def _row(step: Step) -> str:
    def p(values: list[float], q: float) -> str:
        return f"{_percentile(values, q):6.1f}" if values else "     -"

    return (
        f"{step.calls:5d} {step.failed:4d} | {p(step.inbound, 0.5)} {p(step.inbound, 0.99)} "
        f"{p(step.inbound, 1.0)} | {p(step.outbound, 0.5)} {p(step.outbound, 0.99)} | "
        f"{p(step.answers, 0.5)} {p(step.answers, 0.99)} | "
        f"{step.worker_cpu:4.1f}% {step.relay_cpu:4.1f}% | "
        f"{step.provider_cpu:3.0f}% {step.pool_cpu:3.0f}% {step.machine_cpu:4.0f}% | "
        f"{_median(step.busy_rss_mb):5.0f} {max(step.busy_rss_mb, default=0):5.0f} | "
        f"{_median(step.busy_pss_mb):5.0f} {max(step.busy_pss_mb, default=0):5.0f} | "
        f"{step.refill_s:5.1f}s | "
        f"{'yes' if step.sustained else 'no'}"
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def run(steps: list[int], seconds: float, *, pool_mode: str, speech: str) -> None:
    import redis

    from calls.voice import pool

    _prepare_database()
    os.environ.update(_env())
    import django

    django.setup()
    version = _bench_template()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("breeze:voice:*"):
        client.delete(key)
    client.set(SIZE_KEY, 0)
    logs = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    frame_dir = logs / "frames"
    frame_dir.mkdir()
    port = 18000 + os.getpid() % 1000
    base = f"ws://127.0.0.1:{port}"
    daphne_args = [
        str(BIN / "daphne"),
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "breeze.asgi:application",
    ]
    with (
        _process(daphne_args, logs / "web.log") as daphne,
        _process(
            [
                sys.executable,
                __file__,
                "--supervise",
                str(frame_dir),
                "--pool",
                pool_mode,
                "--speech",
                speech,
            ],
            logs / "voice.log",
        ) as supervisor,
    ):
        _wait(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), timeout=60, what="daphne")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; logs in {logs}")
        print(
            f"fixed delays STT {STT_MS} + LLM {LLM_MS} + TTS {TTS_MS} ms, VAD stop {STOP_SECS} s, "
            f"{seconds:.0f} s per call"
        )
        print(
            "calls fail | inbound delay ms p50   p99    max | outbound late p50 p99 | "
            "answer ovh p50 p99 | CPU/call worker daphne | provider pool machine | busy RSS MB med max | "
            "busy PSS MB med max | refill | ok"
        )
        for n in steps:
            step = _step(
                n,
                seconds=seconds,
                base=base,
                version=version,
                frame_dir=frame_dir,
                daphne=daphne.pid,
                supervisor=supervisor.pid,
            )
            print(_row(step), flush=True)
        warm = min(steps[0], 10)
        client.set(SIZE_KEY, warm)
        _wait(lambda: pool.pool_idle_count(client) >= warm, timeout=120, what="idle workers")
        idle_rss, idle_pss = _idle_memory_mb(supervisor.pid)
        print(
            f"idle warm worker ({pool_mode}, {speech} speech): RSS median "
            f"{_median(idle_rss):.0f} MB, PSS median {_median(idle_pss):.0f} MB "
            f"(n={len(idle_rss)}); target <= 200 MB"
        )
        server = Sampler(supervisor.pid).speech_server()
        if server is not None:
            memory = server.memory_full_info()
            print(
                f"speech server (one per host): RSS {memory.rss / 2**20:.0f} MB, "
                f"PSS {memory.pss / 2**20:.0f} MB"
            )
        client.set(SIZE_KEY, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="10,20,30,40", help="simultaneous calls per step")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each call")
    parser.add_argument("--quick", action="store_true", help="one step of 4 calls of 10 s")
    parser.add_argument(
        "--pool", choices=["fork", "fresh"], default="fork", help="how workers are started"
    )
    parser.add_argument(
        "--speech",
        choices=["shared", "in-process"],
        default="shared",
        help="offline models in one speech server (as run_voice_pool does) or in every worker",
    )
    parser.add_argument("--supervise", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.supervise:
        _supervise(
            arguments.supervise,
            fork=arguments.pool == "fork",
            speech_server=arguments.speech == "shared",
        )
        return
    if arguments.quick:
        run([4], 10.0, pool_mode=arguments.pool, speech=arguments.speech)
    else:
        run(
            [int(n) for n in arguments.steps.split(",")],
            arguments.seconds,
            pool_mode=arguments.pool,
            speech=arguments.speech,
        )


if __name__ == "__main__":
    main()
