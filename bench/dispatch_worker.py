"""Breeze's Celery app for bench/dispatch.py's workers, with the simulator's dial step counted.

Everything up to the simulator's dial runs as in production: the dispatcher, the placement
message(s), the claim of the call, loading it, the media token, the event loop the simulated
customer runs in. Only `simulator_dial` itself, which would connect to the media endpoint and
hold the conversation, is replaced by a coroutine that counts the call and returns. Counts go
to Redis (`BENCH_DIALLED`, and the time of the latest dial in `BENCH_LAST`) from a thread
every 20 ms, so counting adds no round trip per call to either code under test; the keys'
names come from bench/dispatch.py in the environment.

Run as `celery -A dispatch_worker worker …` with this directory on PYTHONPATH after the tree
under test, so that the baseline (`--baseline-tree`) runs its own `breeze` and `telephony`.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import django
import redis

from breeze.celery import app

django.setup()

from telephony import services as telephony_services  # noqa: E402  (after django.setup)

__all__ = ["app"]
BENCH_DIALLED, BENCH_LAST = os.environ["BENCH_DIALLED"], os.environ["BENCH_LAST"]
_lock = threading.Lock()
_pending_count = [0]
_pending_last = [0.0]
_flusher: dict[int, threading.Thread] = {}


def _flush_forever() -> None:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    while True:
        time.sleep(0.02)
        with _lock:
            count, last = _pending_count[0], _pending_last[0]
            _pending_count[0] = 0
        if count:
            pipe = client.pipeline(transaction=False)
            pipe.incrby(BENCH_DIALLED, count)
            # The latest dial of any process: a Lua max would be exact; the bench reads
            # this after every count is in, so the largest value written is the last dial.
            pipe.eval(
                "local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
                "if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) end",
                1,
                BENCH_LAST,
                repr(last),
            )
            pipe.execute()


async def _dial_counted(**_: Any) -> None:
    now = time.time()
    with _lock:
        _pending_count[0] += 1
        _pending_last[0] = now
        # One flusher per process, started in the process that dials (after any fork).
        if os.getpid() not in _flusher:
            _flusher[os.getpid()] = threading.Thread(target=_flush_forever, daemon=True)
            _flusher[os.getpid()].start()


telephony_services.simulator_dial = _dial_counted  # type: ignore[attr-defined,assignment]
