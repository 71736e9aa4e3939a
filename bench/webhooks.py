"""Webhook delivery throughput and latency: outbox commit → the receiver's first byte.

Run (against a migrated database, with Redis):
  DATABASE_URL=postgres://…/breeze .venv/bin/python bench/webhooks.py [--rate 350 --seconds 20]

Starts a local receiver (asyncio, keep-alive HTTP/1.1, answers 200 at once and notes when
each request's first byte arrived) and two Celery worker processes on the `webhooks` queue,
then emits `call.completed` events at a fixed rate, each in its own transaction. For every
event it compares the commit time with the time its request reached the receiver.
Prints deliveries per second (first commit → last arrival) and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.test")


def receive(port: int, out: Path) -> None:
    """The receiver process: record (event id, arrival time) per request until SIGTERM."""
    arrivals: list[tuple[str, float]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Keep-alive connections are still open when the receiver stops.
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await serve(reader, writer)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line = await reader.readline()
            if not line:
                break
            arrived = time.time()
            headers: dict[str, str] = {}
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            await reader.readexactly(int(headers.get("content-length", "0")))
            arrivals.append((headers.get("breeze-event-id", ""), arrived))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())
    out.write_text(json.dumps(arrivals))


def _minus(later: Any, earlier: Any) -> Any:
    return type(later)(*(a - b for a, b in zip(later, earlier, strict=True)))


def _stamp(into: list[float]) -> None:
    into.append(time.time())


def _produce(merchant_id: int, rate: float, count: int) -> dict[str, float]:
    """Emit `count` events at `rate` per second, each in its own transaction; commit times."""
    from django.db import transaction

    from calls.webhooks.events import EventType
    from calls.webhooks.examples import EXAMPLE_DATA
    from calls.webhooks.services import webhook_event_emit

    committed: dict[str, float] = {}
    started = time.monotonic()
    for n in range(count):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamp: list[float] = []
        with transaction.atomic():
            # Registered first, so it runs first after the commit: the commit's time.
            transaction.on_commit(partial(_stamp, stamp))
            event_id = webhook_event_emit(
                merchant_id=merchant_id,
                event_type=EventType.CALL_COMPLETED,
                data=EXAMPLE_DATA[EventType.CALL_COMPLETED],
            )
        committed[event_id] = stamp[0]
    return committed


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _report(
    *, committed: dict[str, float], arrivals: list[tuple[str, float]], statuses: dict[str, int]
) -> None:
    first_arrival: dict[str, float] = {}
    for event_id, arrived in arrivals:
        first_arrival.setdefault(event_id, arrived)
    latencies = [
        first_arrival[event_id] - commit
        for event_id, commit in committed.items()
        if event_id in first_arrival
    ]
    span = max(first_arrival.values()) - min(committed.values())
    print(f"statuses {statuses}")
    print(f"received {len(first_arrival)} distinct events ({len(arrivals)} requests)")
    print(f"throughput {len(first_arrival) / span:.0f} deliveries/s (first commit → last arrival)")
    arriving = max(first_arrival.values()) - min(first_arrival.values())
    print(f"delivery rate {len(first_arrival) / arriving:.0f}/s (first → last arrival)")
    print(
        "commit → receiver first byte: "
        f"median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {_percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"p99 {_percentile(latencies, 0.99) * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
    )


def _wait_until_settled(merchant_id: int) -> None:
    from calls.webhooks.models import WebhookDelivery

    deadline = time.monotonic() + 60
    pending = WebhookDelivery.objects.filter(merchant_id=merchant_id).exclude(status="succeeded")
    while pending.exists() and time.monotonic() < deadline:
        time.sleep(0.5)


def _start_workers(*, count: int, pool: str, concurrency: int, logs: Path) -> list[Any]:
    args = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "breeze",
        "worker",
        "--queues",
        "webhooks",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "WARNING",
    ]
    return [
        subprocess.Popen(
            [*args, "--hostname", f"bench{n}@%h"],
            stdout=(logs / f"worker{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(count)
    ]


def run(
    *,
    rate: int,
    seconds: int,
    producers: int,
    workers: int,
    pool: str,
    concurrency: int,
    backlog: bool,
) -> None:
    import django
    import psutil  # type: ignore[import-untyped]

    django.setup()
    from django.db import connections
    from django.db.models import Count

    from breeze.celery import app as celery_app
    from calls.webhooks.models import WebhookDelivery, WebhookEndpoint
    from calls.webhooks.services import webhook_endpoint_create
    from config.models import Merchant
    from tests.conftest import free_port

    celery_app.conf.task_always_eager = False
    port = free_port()
    merchant, _ = Merchant.objects.get_or_create(slug="bench-webhooks", defaults={"name": "Bench"})
    WebhookEndpoint.objects.filter(merchant=merchant).delete()
    webhook_endpoint_create(merchant_id=merchant.pk, url=f"http://127.0.0.1:{port}/hook")
    work = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    arrivals_file = work / "arrivals.json"
    receiver = subprocess.Popen(
        [sys.executable, __file__, "--receive", str(port), str(arrivals_file)]
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"{workers} workers ({pool}, concurrency {concurrency}), {producers} producers")
    print(f"offered {rate} events/s for {seconds} s, one endpoint, backlog first: {backlog}")
    celery: list[Any] = []
    idle: list[Any] = []
    try:
        if not backlog:
            celery = _start_workers(count=workers, pool=pool, concurrency=concurrency, logs=work)
            time.sleep(6)  # workers connect and import everything
            idle = [psutil.Process(process.pid).cpu_times() for process in celery]
        total = rate * seconds
        started = time.monotonic()
        # Several producers, like the several web and voice processes that commit changes.
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(producers) as producer_pool:
            shares = producer_pool.starmap(
                _produce,
                [(merchant.pk, rate / producers, total // producers) for _ in range(producers)],
            )
        committed = {event_id: at for share in shares for event_id, at in share.items()}
        print(f"emitted {len(committed)} in {time.monotonic() - started:.1f} s")
        if backlog:
            celery = _start_workers(count=workers, pool=pool, concurrency=concurrency, logs=work)
        _wait_until_settled(merchant.pk)
        # Only a paced run knows each worker's CPU before the load (a backlog run's includes startup).
        busy = [
            _minus(psutil.Process(process.pid).cpu_times(), before)
            for process, before in zip(celery, idle, strict=False)
        ]
    finally:
        for process in [*celery, receiver]:
            process.send_signal(signal.SIGTERM)
        for process in [*celery, receiver]:
            process.wait(timeout=30)
    statuses = dict(
        WebhookDelivery.objects.filter(merchant=merchant)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    _report(committed=committed, arrivals=json.loads(arrivals_file.read_text()), statuses=statuses)
    if busy:
        per_delivery = sum(t.user + t.system for t in busy) / len(committed) * 1000
        print(f"worker CPU per delivery {per_delivery:.2f} ms (user + system, both workers)")
    WebhookDelivery.objects.filter(merchant=merchant).delete()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--receive":
        receive(int(sys.argv[2]), Path(sys.argv[3]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=350)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", default="threads", choices=["solo", "threads", "prefork"])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--backlog",
        action="store_true",
        help="emit everything before starting the workers: measures how fast they drain it",
    )
    options = parser.parse_args()
    run(
        rate=options.rate,
        seconds=options.seconds,
        producers=options.producers,
        workers=options.workers,
        pool=options.pool,
        concurrency=options.concurrency,
        backlog=options.backlog,
    )
