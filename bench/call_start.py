"""Call start: from the provider's `start` message to the call's pipeline running.

Run: .venv/bin/python bench/call_start.py [--runs 15]

Warm: in a worker process that has already imported everything and loaded its models
(`registry.warm_up()`), measure building the call's pipeline (serializer, VAD, STT, flow,
rules engine, TTS, transport) and starting it until the pipeline reports it started.
Cold: the same in a freshly started process, including interpreter start, imports and model
loading, which is what a call would wait for with no warm pool. Prints medians and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.test")


def _setup() -> None:
    import django

    django.setup()


START = {
    "event": "start",
    "sequenceNumber": "1",
    "streamSid": "MZbench",
    "start": {"streamSid": "MZbench", "callSid": "CAbench", "accountSid": "ACbench"},
}


async def _one_call_start() -> float:
    """Seconds from `start` to the pipeline running, in this (already warm) process."""
    from calls.selectors import CallContext
    from calls.voice.pipeline import build_call_session
    from calls.voice.serializers import build_serializer
    from config.call_config import EffectiveConfig
    from templates_app.demo import demo_definition
    from templates_app.flows.factory import FlowInputs
    from templates_app.pipecat_compat import WorkerRunner

    definition = demo_definition("order-confirmation")
    context = CallContext(
        call_id=0,
        provider="simulator",
        time_zone="Asia/Kolkata",
        inputs=FlowInputs(
            definition=definition,
            variables={"customer_name": "Asha", "order_id": "A1", "order_total": "10"},
            config=EffectiveConfig(
                base={key: definition[key] for key in ("stt", "tts", "llm", "vad")}, playground={}
            ),
        ),
        credentials={},
    )
    inbound: asyncio.Queue[str | None] = asyncio.Queue()

    async def send(_payload: str | bytes) -> None:
        return None

    began = time.perf_counter()
    session = build_call_session(
        context,
        serializer=build_serializer("simulator", START, credentials={}),
        inbound=inbound,
        send=send,
    )
    ready = asyncio.Event()

    async def started(_worker: object, _frame: object) -> None:
        ready.set()

    session.worker.add_event_handler("on_pipeline_started", started)
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(session.worker)
    running = asyncio.create_task(runner.run())
    await ready.wait()
    elapsed = time.perf_counter() - began
    await session.worker.cancel()
    await running
    return elapsed


def warm(runs: int) -> list[float]:
    _setup()
    from calls.voice.speech import registry

    registry.warm_up()
    asyncio.run(_one_call_start())  # the first build also warms Pipecat's lazy imports
    samples = []
    for _ in range(runs):
        registry.warm_up()  # a real worker serves one call; reload its spare analyzer, untimed
        samples.append(asyncio.run(_one_call_start()))
    return samples


def cold(runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--cold-once"], check=True, cwd=ROOT, capture_output=True
        )
        samples.append(time.perf_counter() - began)
    return samples


def _cold_once() -> None:
    _setup()
    from calls.voice.speech import registry

    registry.warm_up()
    asyncio.run(_one_call_start())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--cold-once", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.cold_once:
        _cold_once()
        return
    warm_samples = warm(arguments.runs)
    cold_samples = cold(arguments.cold_runs)
    warm_median = statistics.median(warm_samples) * 1000
    cold_median = statistics.median(cold_samples) * 1000
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(
        f"warm worker  median {warm_median:8.1f} ms  (min {min(warm_samples) * 1000:.1f}, max {max(warm_samples) * 1000:.1f}, n={len(warm_samples)})"
    )
    print(
        f"fresh process median {cold_median:7.1f} ms  (min {min(cold_samples) * 1000:.1f}, max {max(cold_samples) * 1000:.1f}, n={len(cold_samples)})"
    )
    print(f"ratio fresh / warm: {cold_median / warm_median:.0f}x")


if __name__ == "__main__":
    main()
