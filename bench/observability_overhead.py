"""Per-turn platform overhead with and without the observability stack, in the same run.

Run: .venv/bin/python bench/observability_overhead.py [--rounds 2] [--turns 15]

Reuses bench/turn_overhead.py's call (the worker's own pipeline, fixed-delay providers) and
alternates the arms, round after round, so drift on a shared machine hits all alike:
- bare: Pipecat's loguru lines formatted at DEBUG into /dev/null (a worker before issue 9),
  no tracing;
- logging: the worker's logging as shipped (bench/logging_overhead.py's `with` arm);
- logging+tracing: that, plus OpenTelemetry installed as `tracing_configure` does it (SDK,
  batch OTLP/HTTP exporter, library instrumentation), the call inside its
  `call.conversation` span and a span per turn, exported to a local receiver;
- +langfuse: that, plus the Langfuse turn observer sending generations to a local receiver.
Metrics are computed when /metrics is scraped (docs/observability.md), so no arm has them:
they cost nothing on the call path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import logging_overhead
import turn_overhead as bench


class _Receiver(BaseHTTPRequestHandler):
    """Accepts any POST (OTLP spans, Langfuse batches) the way a collector would."""

    posts = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).posts += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _receiver() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


class _Tracing:
    """Switches the process between no tracing and tracing as an entry point installs it."""

    def __init__(self, endpoint: str) -> None:
        from config.tracing import setup

        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
        self.setup = setup
        self.provider = setup.tracer_provider_build(service_name="breeze-bench")

    def on(self) -> None:
        from opentelemetry import trace

        trace._TRACER_PROVIDER = self.provider
        self.setup._state["configured"] = True
        self.setup.instrument_libraries()

    def off(self) -> None:
        from opentelemetry import trace

        for instrumentor in self.setup.instrumentors():
            if instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.uninstrument()
        self.provider.force_flush()
        trace._TRACER_PROVIDER = None
        self.setup._state["configured"] = False


@contextmanager
def _conversation_span() -> Iterator[None]:
    from config.tracing.context import span_from

    with span_from("", "call.conversation"):
        yield


def _langfuse_observer(endpoint: str) -> Callable[[Any], Any]:
    """A factory of the worker's Langfuse turn observer, sending to the local receiver."""
    from langfuse import Langfuse
    from opentelemetry.sdk.trace import TracerProvider

    from calls.langfuse.observer import LangfuseTurnObserver

    client = Langfuse(
        public_key="pk-lf-bench",
        secret_key="sk-lf-bench",
        base_url=endpoint,
        tracer_provider=TracerProvider(),
    )

    def attach(session: Any) -> Any:
        root = client.start_observation(name="call", as_type="span")
        observer = LangfuseTurnObserver(root=root, current_node=lambda: "bench")
        session.worker.add_observer(observer)
        return root

    return attach


def _measured_call(
    arm: str, *, turns: int, vad: Any, traced: bool, on_session: Callable[[Any], Any] | None
) -> list[Any]:
    """One call's turns; a call the load broke (a turn without every stage) is run again."""
    from calls.voice.speech import registry

    for attempt in range(3):
        registry.warm_up()
        span: AbstractContextManager[None] = _conversation_span() if traced else nullcontext()
        try:
            with span:
                return asyncio.run(bench.one_call(turns, vad, on_session=on_session))
        except (KeyError, RuntimeError) as error:
            print(f"{arm}: call {attempt + 1} discarded ({error!r}), run again", file=sys.stderr)
    raise RuntimeError(f"{arm}: three calls in a row could not be measured")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--turns", type=int, default=15)
    arguments = parser.parse_args()
    bench._setup()
    endpoint = _receiver()
    tracing = _Tracing(endpoint)
    attach_langfuse = _langfuse_observer(endpoint)
    vad = bench.VadTrace()
    vad.install()
    arms: dict[str, tuple[bool, bool]] = {  # (tracing, langfuse); all but bare log as shipped
        "bare": (False, False),
        "logging": (False, False),
        "logging+tracing": (True, False),
        "+langfuse": (True, True),
    }
    overhead: dict[str, list[float]] = {arm: [] for arm in arms}
    for _ in range(arguments.rounds):
        for arm, (traced, langfuse) in arms.items():
            (logging_overhead._without if arm == "bare" else logging_overhead._with)()
            tracing.on() if traced else tracing.off()
            turns = _measured_call(
                arm,
                turns=arguments.turns,
                vad=vad,
                traced=traced,
                on_session=attach_langfuse if langfuse else None,
            )
            overhead[arm] += [turn.overhead_ms for turn in turns]
    tracing.off()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()}")
    for arm, values in overhead.items():
        print(
            f"{arm:<16} {len(values)} turns: median {statistics.median(values):6.2f} ms   "
            f"p99 {bench.percentile(values, 0.99):6.2f} ms"
        )
    base = statistics.median(overhead["bare"])
    for arm in list(arms)[1:]:
        median = statistics.median(overhead[arm])
        print(
            f"{arm} adds {median - base:+.2f} ms per turn at the median ({median / base - 1:+.1%})"
        )
    print(f"receiver took {_Receiver.posts} export requests")


if __name__ == "__main__":
    main()
