"""Per-turn platform overhead with and without the worker's logging, in the same run.

Run: .venv/bin/python bench/logging_overhead.py [--rounds 2] [--turns 15]

Reuses bench/turn_overhead.py's call (the worker's own pipeline, fixed-delay providers) and
alternates two arms, round after round, so drift on a shared machine hits both alike:
- without: Pipecat's loguru lines formatted at DEBUG into /dev/null, as turn_overhead.py
  does (what a worker did before structured logging);
- with: the worker's logging as shipped — loguru routed into `logging` at the root level,
  the call's ids bound, JSON lines with the id and masking filters — written to /dev/null.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import turn_overhead as bench


def _without() -> None:
    from loguru import logger

    logger.remove()
    logger.add(Path(os.devnull).open("w"), level="DEBUG")  # noqa: SIM115 - for the whole arm


def _with() -> None:
    from calls.voice.log_bridge import route_loguru_to_logging
    from config.logs import context
    from config.logs.formatters import JsonFormatter

    (handler,) = (h for h in logging.getLogger().handlers if h.get_name() == "console")
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(Path(os.devnull).open("w"))  # noqa: SIM115 - for the whole run
    handler.setFormatter(JsonFormatter())
    route_loguru_to_logging()
    context.bind(worker_id="bench", call_id=1, merchant_id=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--turns", type=int, default=15)
    arguments = parser.parse_args()
    bench._setup()
    from calls.voice.speech import registry

    trace = bench.VadTrace()
    trace.install()
    overhead: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(arguments.rounds):
        for arm, configure in (("without", _without), ("with", _with)):
            configure()
            registry.warm_up()
            turns = asyncio.run(bench.one_call(arguments.turns, trace))
            overhead[arm] += [turn.overhead_ms for turn in turns]
    for arm, values in overhead.items():
        print(
            f"{arm:<8} {len(values)} turns: median {statistics.median(values):6.2f} ms   "
            f"p99 {bench.percentile(values, 0.99):6.2f} ms   "
            f"largest {', '.join(f'{v:.1f}' for v in sorted(values)[-3:])} ms"
        )
    base, logged = (statistics.median(overhead[arm]) for arm in ("without", "with"))
    print(
        f"logging adds {logged - base:+.2f} ms per turn at the median ({(logged / base - 1):+.1%})"
    )


if __name__ == "__main__":
    main()
