"""Dispatch: claiming a batch of due leads among 1,000,000, and push → dial latency.

Run (against a migrated database, with Redis; both are left as they were):
  DATABASE_URL=postgres://…/breeze REDIS_URL=redis://127.0.0.1:6379/9 \
      .venv/bin/python bench/dispatch.py [--leads 1000000 --claims 50 --pushes 100]
      [--throughput 10000 --rounds 3 --baseline-tree DIR] [--only-throughput]

1. Latency: two Celery workers (queues `dispatch` and `telephony`) run the real dispatcher
   and placement; this process pushes leads that are due at once, one per transaction, each
   kicking the dispatcher after commit as a push does. Latency is the lead's commit → the
   moment `calls_place` marks its call `dialing`, the UPDATE made just before the provider is
   asked (`Call.started_at`). The simulator's media endpoint points at a closed port, so
   the dial itself is refused after that instant and costs nothing.
2. Throughput (`--throughput N`, `--rounds R`): N due leads (windows applied in each lead's
   own zone, DNC, the per-number cap and the limiter) go from one committed INSERT to the
   simulator's dial step through the real pipeline: two dispatch worker processes (solo)
   and a telephony worker (prefork, 2 processes), all run by bench/dispatch_worker.py, which
   is Breeze's Celery app with only the simulated customer's connection replaced by a count
   (the media token, the event loop and everything before them still run). Throughput is
   N / (the kick → the last call at its dial step). CPU per lead is measured too, which is
   what a shared machine does not distort: the workers' processes, and the PostgreSQL
   backends serving them (Redis is shared with other work, so its figure is an upper bound).
   `--baseline-tree DIR` runs the same rounds, alternating, with the code of another checkout
   (e.g. `git archive <commit> | tar -x -C DIR`) and prints the ratio.
   `--stages N` instead times, in one process and one run, what each of N leads costs: the
   dispatch transaction, sending its placement to the broker, and `calls_place` up to the
   simulator's dial step.
3. Claim: `--leads` scheduled leads are written by one INSERT … SELECT generate_series (due
   times spread over ±1 hour, so about half are due), then ANALYZE; each claim is the
   dispatcher's own `leads_claim_due(limit=500)` in a transaction that is rolled back, so
   every claim faces the same table. Prints the median, p95 and max.
The bench merchant and its leads and calls are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Local settings: tasks go through the broker (test settings run them eagerly).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.local")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ["PUBLIC_BASE_URL"] = "http://127.0.0.1:9"
# The bench measures dispatch, not the caps: every lead may be dialled.
os.environ["BREEZE_MERCHANT_CONCURRENCY"] = "10000000"
SLUG = "bench-dispatch"
# Where bench/dispatch_worker.py counts the calls that reached the simulator's dial step.
BENCH_DIALLED, BENCH_LAST = "bench:dispatch:dialled", "bench:dispatch:last"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:.1f} ms, "
        f"p95 {_percentile(values, 0.95) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"
    )


def setup() -> Any:
    import copy

    from config.models import Merchant
    from templates_app.demo import demo_definition
    from templates_app.services import template_create, template_version_publish

    merchant, _ = Merchant.objects.get_or_create(
        slug=SLUG, defaults={"name": "Bench dispatch", "time_zone": "Asia/Kolkata"}
    )
    definition = copy.deepcopy(demo_definition("order-confirmation"))
    # Windows applied, in each lead's own zone (read from its number), and open at any hour,
    # so every lead is dialled whenever the bench runs.
    definition["execution"] = {
        **definition["execution"],
        "calling_windows": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "00:00",
                "end": "24:00",
            }
        ],
        "time_zone": "lead",
    }
    definition["execution"].pop("concurrency_cap", None)
    template = template_create(merchant=merchant, slug=SLUG, name=SLUG, definition=definition)
    template_version_publish(version=template.versions.get())
    return template


def _celery_workers(
    specs: list[tuple[str, str, list[str]]],
    *,
    app: str,
    tree: Path,
    env: dict[str, str],
    logs: Path,
) -> list[subprocess.Popen[bytes]]:
    """One Celery worker per (name, queue, pool options), running `app` from `tree`."""
    args = [str(Path(sys.executable).parent / "celery"), "-A", app, "worker"]
    quiet = ["--without-mingle", "--without-gossip", "--loglevel", "WARNING"]
    return [
        subprocess.Popen(
            [*args, *quiet, *pool, "--queues", queue, "--hostname", f"bench-{name}@%h"],
            cwd=tree,
            env=env,
            stdout=(logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        for name, queue, pool in specs
    ]


def _workers(logs: Path, tree: Path) -> list[subprocess.Popen[bytes]]:
    # Simulated placements hold a thread while Piper speaks the persona's lines, so the
    # telephony worker gets threads; the dispatcher needs one.
    specs = [
        ("dispatch", "dispatch", ["--pool", "solo"]),
        ("telephony", "telephony", ["--pool", "threads", "-c", "8"]),
    ]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return _celery_workers(specs, app="breeze", tree=tree, env=env, logs=logs)


def _push(template: Any, number: int) -> int:
    """One lead due at once, committed and kicking the dispatcher as a push does; its id."""
    from django.db import transaction
    from django.utils import timezone

    from leads.models import Lead, LeadTransition
    from leads.services import dispatch_kick
    from tests.demo_payloads import DEMO_PAYLOADS

    with transaction.atomic():
        lead = Lead.objects.create(
            merchant_id=template.merchant_id,
            template=template,
            template_version=template.versions.get(),
            phone=f"+91981{number:07d}",
            payload=dict(DEMO_PAYLOADS["order-confirmation"]),
            next_attempt_at=timezone.now(),
        )
        LeadTransition.objects.create(
            lead=lead, to_status=lead.status, actor="bench", reason="pushed"
        )
        dispatch_kick(leads=[lead])
    return int(lead.pk)


def _placed(lead_ids: Any, count: int, *, timeout: float) -> Any:
    from calls.models import Call

    deadline = time.monotonic() + timeout
    placed = Call.objects.filter(lead_id__in=lead_ids, started_at__isnull=False)
    while placed.count() < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return placed


def latency(template: Any, pushes: int, baseline: Path | None) -> None:
    """Push → dial request with this tree's workers, and first with `baseline`'s if given."""
    for tag, tree in [("baseline", baseline), ("this", ROOT)]:
        if tree is not None:
            _rows_delete(template.merchant_id)
            print(f"{tag}: {_latency_run(template, pushes, tree)}", flush=True)


def _latency_run(template: Any, pushes: int, tree: Path) -> str:
    with tempfile.TemporaryDirectory() as logs:
        workers = _workers(Path(logs), tree)
        try:
            # Both workers up (a loaded machine takes longer than a fixed sleep): one lead
            # through the whole path first, not timed.
            _placed([_push(template, 9_999_999)], 1, timeout=120)
            committed: dict[int, float] = {}
            for number in range(pushes):
                committed[_push(template, number)] = time.time()
                time.sleep(0.1)
            placed = _placed(committed, pushes, timeout=60)
            latencies = [
                started.timestamp() - committed[lead_id]
                for lead_id, started in placed.values_list("lead_id", "started_at")
                if started is not None
            ]
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
    return f"push → dial request: {len(latencies)} of {pushes} placed; {_ms(latencies)}"


def claims(template: Any, leads: int, runs: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from leads.dispatch.services import leads_claim_due

    version = template.versions.get()
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO leads_lead (
                merchant_id, template_id, template_version_id, phone, payload, execution_mode,
                time_zone, idempotency_key, request_fingerprint, webhook_url, is_playground,
                config_overrides, status, next_attempt_at, attempts, last_disposition, outcome,
                outcome_fields, created_by, created_at, updated_at, traceparent
            )
            SELECT %s, %s, %s, '+919812345678', '{}', 'TELEPHONY', '', '', '', '', false,
                   '{}', 'scheduled', now() + (random() * 2 - 1) * interval '1 hour', 0, '', '',
                   '{}', 'bench', now(), now(), ''
            FROM generate_series(1, %s)
            """,
            [template.merchant_id, template.pk, version.pk, leads],
        )
        cursor.execute("ANALYZE leads_lead")
    print(f"inserted {leads:,} scheduled leads in {time.monotonic() - started:.1f} s")
    timings: list[float] = []
    for _ in range(runs):
        begin = time.perf_counter()
        with transaction.atomic():
            claimed = leads_claim_due(now=timezone.now(), limit=500)
            timings.append(time.perf_counter() - begin)
            assert len(claimed) == 500, len(claimed)
            transaction.set_rollback(True)
    print(f"claim 500 due of {leads:,}: {_ms(timings)}")


def _pipeline_workers(tree: Path, logs: Path, tag: str) -> list[subprocess.Popen[bytes]]:
    """Two dispatch workers and a telephony worker running `tree`'s code, dials counted."""
    # The tree under test first, then bench/ for dispatch_worker: the baseline tree runs
    # its own packages, not this checkout's.
    env = {
        **os.environ,
        "PYTHONPATH": f"{tree}{os.pathsep}{ROOT / 'bench'}",
        "BENCH_DIALLED": BENCH_DIALLED,
        "BENCH_LAST": BENCH_LAST,
    }
    specs = [
        (f"{tag}-dispatch-1", "dispatch", ["--pool", "solo"]),
        (f"{tag}-dispatch-2", "dispatch", ["--pool", "solo"]),
        (f"{tag}-telephony", "telephony", ["--pool", "prefork", "--concurrency", "2"]),
    ]
    return _celery_workers(specs, app="dispatch_worker", tree=tree, env=env, logs=logs)


def _process_cpu(workers: list[subprocess.Popen[bytes]]) -> float:
    """CPU seconds (user + system) of the workers and their pool processes so far."""
    total = 0.0
    for worker in workers:
        process = psutil.Process(worker.pid)
        for each in [process, *process.children(recursive=True)]:
            times = each.cpu_times()
            total += times.user + times.system
    return total


def _backend_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to this database, but this one."""
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cursor.fetchall()]
    seconds: dict[int, float] = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        seconds[pid] = times.user + times.system
    return seconds


class _BackendsCpu:
    """The backends' CPU seconds since it was made, sampled while the round runs.

    A backend that exits mid-round (a worker closes its connection every
    CELERY_DB_REUSE_MAX tasks, so the per-call baseline reconnects) keeps what it used up to
    its last sample, a quarter of a second at most before it exited.
    """

    def __init__(self) -> None:
        self.start = _backend_cpu()
        self.seen = dict(self.start)
        self.next = 0.0

    def sample(self) -> None:
        if time.monotonic() < self.next:
            return
        for pid, seconds in _backend_cpu().items():
            self.seen[pid] = max(self.seen.get(pid, 0.0), seconds)
        self.next = time.monotonic() + 0.25

    def used(self) -> float:
        self.next = 0.0
        self.sample()
        return sum(seconds - self.start.get(pid, 0.0) for pid, seconds in self.seen.items())


def _redis_cpu() -> float:
    """CPU seconds of the Redis server, which other work on this machine shares."""
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "redis-server":
            times = process.cpu_times()
            return float(times.user + times.system)
    return 0.0


def _bench_data_clear(template: Any) -> None:
    """No leads, calls, limiter slots, queued messages or counts left from an earlier round."""
    import redis
    from django.conf import settings
    from django.db import connection

    from leads.dispatch.limiter import PREFIX

    _rows_delete(template.merchant_id)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE leads_lead, calls_call, leads_leadtransition")
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"{PREFIX}*"):
        client.delete(key)
    client.delete("dispatch", "telephony", BENCH_DIALLED, BENCH_LAST)


def _dialled(client: Any) -> int:
    return int(client.get(BENCH_DIALLED) or 0)


def _until_dialled(
    client: Any, count: int, *, timeout: float, tick: Callable[[], None] = lambda: None
) -> None:
    """Wait for `count` dials, kicking the dispatcher as beat does while it has no run queued."""
    from leads.tasks import dispatch_due_leads

    deadline = time.monotonic() + timeout
    next_kick = 0.0
    while _dialled(client) < count:
        tick()
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {_dialled(client)} of {count} dials after {timeout} s")
        if time.monotonic() >= next_kick and client.llen("dispatch") == 0:
            dispatch_due_leads.apply_async()
            next_kick = time.monotonic() + 1.0
        time.sleep(0.01)


def _pipeline_round(
    template: Any, leads: int, tree: Path, logs: Path, tag: str
) -> dict[str, float]:
    """One run of `tree`'s code: `leads` due leads to the simulator's dial step."""
    import redis
    from django.conf import settings
    from django.db import connection

    from leads.tasks import dispatch_due_leads

    client = redis.Redis.from_url(settings.REDIS_URL)
    _bench_data_clear(template)
    workers = _pipeline_workers(tree, logs, tag)
    try:
        # Warm up: every worker up, connected and past its first task.
        _due_leads_insert(template, 40)
        for _ in range(2):
            dispatch_due_leads.apply_async()
        _until_dialled(client, 40, timeout=120)
        time.sleep(0.5)
        _bench_data_clear(template)
        _due_leads_insert(template, leads)
        connection.close()  # the bench's own connection is not a backend at work
        backends, process, redis_cpu = _BackendsCpu(), _process_cpu(workers), _redis_cpu()
        started = time.time()
        for _ in range(2):  # one run for each dispatch worker
            dispatch_due_leads.apply_async()
        _until_dialled(client, leads, timeout=900, tick=backends.sample)
        time.sleep(0.1)  # the last counts flushed
        last = float(cast("bytes", client.get(BENCH_LAST)))
        process_cpu = _process_cpu(workers) - process
        backend_cpu = backends.used()
        redis_cpu = _redis_cpu() - redis_cpu
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    return {
        "leads_per_s": leads / (last - started),
        "python_ms": process_cpu / leads * 1000,
        "postgres_ms": backend_cpu / leads * 1000,
        "redis_ms": redis_cpu / leads * 1000,
    }


def pipeline(template: Any, leads: int, rounds: int, baseline: Path | None) -> None:
    """Due leads → the simulator's dial step, two dispatch workers; A/B against `baseline`."""
    trees = [("baseline", baseline), ("this", ROOT)] if baseline else [("this", ROOT)]
    results: dict[str, list[dict[str, float]]] = {tag: [] for tag, _ in trees}
    with tempfile.TemporaryDirectory() as logs:
        for number in range(rounds):
            for tag, tree in trees:
                assert tree is not None
                result = _pipeline_round(template, leads, tree, Path(logs), tag)
                results[tag].append(result)
                print(
                    f"round {number + 1} {tag}: {result['leads_per_s']:,.0f} leads/s; CPU per "
                    f"lead: workers {result['python_ms']:.3f} ms, PostgreSQL "
                    f"{result['postgres_ms']:.3f} ms, Redis (shared) {result['redis_ms']:.3f} ms",
                    flush=True,
                )
    medians = {
        tag: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for tag, runs in results.items()
    }
    for tag, median in medians.items():
        cpu = median["python_ms"] + median["postgres_ms"]
        print(
            f"median {tag}: {median['leads_per_s']:,.0f} leads/s to the dial step; "
            f"{cpu:.3f} ms CPU per lead (workers {median['python_ms']:.3f} + PostgreSQL "
            f"{median['postgres_ms']:.3f}), Redis (shared) {median['redis_ms']:.3f} ms; "
            f"CPU-bound ceiling on 2 cores {2000 / cpu:,.0f} leads/s"
        )
    if baseline:
        this, base = medians["this"], medians["baseline"]
        print(
            f"ratio this/baseline: throughput {this['leads_per_s'] / base['leads_per_s']:.2f}x, "
            f"CPU per lead {(this['python_ms'] + this['postgres_ms']) / (base['python_ms'] + base['postgres_ms']):.2f}x"
        )


def _due_leads_insert(template: Any, leads: int) -> None:
    from django.db import connection

    version = template.versions.get()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO leads_lead (
                merchant_id, template_id, template_version_id, phone, payload, execution_mode,
                time_zone, idempotency_key, request_fingerprint, webhook_url, is_playground,
                config_overrides, status, next_attempt_at, attempts, last_disposition, outcome,
                outcome_fields, created_by, created_at, updated_at, traceparent
            )
            SELECT %s, %s, %s, '+91981' || lpad(n::text, 7, '0'), %s, 'TELEPHONY', '', '', '',
                   '', false, '{}', 'scheduled', now() - interval '1 minute', 0, '', '', '{}',
                   'bench', now(), now(), ''
            FROM generate_series(1, %s) AS n
            """,
            [template.merchant_id, template.pk, version.pk, _payload_json(), leads],
        )


def stages(template: Any, leads: int) -> None:
    """Per lead, in one process: the dispatch transaction, its placement's enqueue, placement.

    Placement is `calls_place` per batch up to the simulator's dial step (`simulator_dial`
    replaced by a coroutine that returns at once, as in bench/dispatch_worker.py).
    """
    import redis
    from django.conf import settings

    from leads.dispatch.services import leads_dispatch_batch
    from telephony import services as telephony_services

    async def dial_step(**_: Any) -> None:
        return None

    _due_leads_insert(template, leads)
    batches: list[float] = []
    dialled: list[list[int]] = []
    while True:
        begin = time.perf_counter()
        report = leads_dispatch_batch(limit=500)
        if not report.claimed:
            break
        batches.append(time.perf_counter() - begin)
        dialled.append(report.dialled)
    # The batches above sent their placements after commit; sending them again alone (no
    # worker reads the queue; a repeated placement dials nothing) times that part.
    begin = time.perf_counter()
    for call_ids in dialled:
        telephony_services.call_place_enqueue(call_ids=call_ids)
    enqueue = time.perf_counter() - begin
    redis.Redis.from_url(settings.REDIS_URL).delete("telephony")
    count = sum(len(call_ids) for call_ids in dialled)
    telephony_services.simulator_dial = dial_step  # type: ignore[attr-defined,assignment]
    begin = time.perf_counter()
    for call_ids in dialled:
        telephony_services.calls_place(call_ids=call_ids)
    place = time.perf_counter() - begin
    per = {
        "dispatch transaction": (sum(batches) - enqueue) / count,
        "enqueue placement": enqueue / count,
        "calls_place to the simulator's dial step": place / count,
    }
    for stage, seconds in per.items():
        print(f"{stage}: {seconds * 1000:.3f} ms/lead")
    print(f"all three: {sum(per.values()) * 1000:.3f} ms of one core per lead ({count:,} leads)")


def _payload_json() -> str:
    import json

    from tests.demo_payloads import DEMO_PAYLOADS

    return json.dumps(DEMO_PAYLOADS["order-confirmation"])


def _rows_delete(merchant_id: int) -> None:
    """The bench merchant's leads, their history and calls."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("leads_leadtransition", "calls_call", "leads_lead"):
            column = "lead_id IN (SELECT id FROM leads_lead WHERE merchant_id = %s)"
            where = column if table == "leads_leadtransition" else "merchant_id = %s"
            cursor.execute(f"DELETE FROM {table} WHERE {where}", [merchant_id])


def teardown() -> None:
    from config.models import Merchant

    merchant = Merchant.objects.filter(slug=SLUG).first()
    if merchant is None:
        return
    _rows_delete(merchant.pk)
    merchant.templates.all().delete()
    merchant.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=50)
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--throughput", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        help="a checkout to compare against, e.g. `git archive <commit> | tar -x -C DIR`",
    )
    parser.add_argument("--only-throughput", action="store_true")
    parser.add_argument("--stages", type=int, default=0)
    options = parser.parse_args()
    import django

    django.setup()
    teardown()
    template = setup()
    try:
        if options.stages:
            stages(template, options.stages)
            return
        if options.throughput:
            pipeline(template, options.throughput, options.rounds, options.baseline_tree)
        if options.only_throughput:
            return
        latency(template, options.pushes, options.baseline_tree)
        claims(template, options.leads, options.claims)
    finally:
        teardown()


if __name__ == "__main__":
    main()
