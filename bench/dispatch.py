"""Dispatch: claiming a batch of due leads among 1,000,000, and push → dial latency.

Run (against a migrated database, with Redis; both are left as they were):
  DATABASE_URL=postgres://…/breeze REDIS_URL=redis://127.0.0.1:6379/9 \
      .venv/bin/python bench/dispatch.py [--leads 1000000 --claims 50 --pushes 100]

1. Latency: two Celery workers (queues `dispatch` and `telephony`) run the real dispatcher
   and placement; this process pushes leads that are due at once, one per transaction, each
   kicking the dispatcher after commit as a push does. Latency is the lead's commit → the
   moment `call_place` marks its call `dialing`, the UPDATE made just before the provider is
   asked (`Call.started_at`). The simulator's media endpoint points at a closed port, so
   the dial itself is refused after that instant and costs nothing.
2. Throughput: `--throughput` due leads, dispatched by two processes running the dispatcher
   (windows, DNC, per-number cap and limiter applied) up to enqueueing each placement.
   `--stages N` instead times, in one process and one run, what each of N leads costs: the
   dispatch transaction, sending its placement to the broker, and `call_place` up to the
   provider (the simulator's placer replaced by one that returns at once).
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Local settings: tasks go through the broker (test settings run them eagerly).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.local")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ["PUBLIC_BASE_URL"] = "http://127.0.0.1:9"
# The bench measures dispatch, not the caps: every lead may be dialled.
os.environ["BREEZE_MERCHANT_CONCURRENCY"] = "10000000"
SLUG = "bench-dispatch"


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
    definition["execution"] = {
        **definition["execution"],
        "calling_windows": [],
    }
    definition["execution"].pop("concurrency_cap", None)
    template = template_create(merchant=merchant, slug=SLUG, name=SLUG, definition=definition)
    template_version_publish(version=template.versions.get())
    return template


def _workers(logs: Path) -> list[subprocess.Popen[bytes]]:
    args = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "breeze",
        "worker",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "WARNING",
    ]
    env = dict(os.environ)
    # Simulated placements hold a thread while Piper speaks the persona's lines, so the
    # telephony worker gets threads; the dispatcher needs one.
    pools = {"dispatch": ["--pool", "solo"], "telephony": ["--pool", "threads", "-c", "8"]}
    return [
        subprocess.Popen(
            [*args, *pool, "--queues", queue, "--hostname", f"bench-{queue}@%h"],
            cwd=ROOT,
            env=env,
            stdout=(logs / f"{queue}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for queue, pool in pools.items()
    ]


def latency(template: Any, pushes: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from calls.models import Call
    from leads.models import Lead, LeadTransition
    from leads.services import dispatch_kick
    from tests.demo_payloads import DEMO_PAYLOADS

    version = template.versions.get()
    with tempfile.TemporaryDirectory() as logs:
        workers = _workers(Path(logs))
        try:
            time.sleep(6)  # both workers ready
            committed: dict[int, float] = {}
            for number in range(pushes):
                with transaction.atomic():
                    lead = Lead.objects.create(
                        merchant_id=template.merchant_id,
                        template=template,
                        template_version=version,
                        phone=f"+91981{number:07d}",
                        payload=dict(DEMO_PAYLOADS["order-confirmation"]),
                        next_attempt_at=timezone.now(),
                    )
                    LeadTransition.objects.create(
                        lead=lead, to_status=lead.status, actor="bench", reason="pushed"
                    )
                    dispatch_kick(leads=[lead])
                committed[lead.pk] = time.time()
                time.sleep(0.1)
            deadline = time.monotonic() + 60
            placed = Call.objects.filter(lead_id__in=committed, started_at__isnull=False)
            while placed.count() < pushes and time.monotonic() < deadline:
                time.sleep(0.2)
            latencies = [
                started.timestamp() - committed[lead_id]
                for lead_id, started in placed.values_list("lead_id", "started_at")
                if started is not None
            ]
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
    print(f"push → dial request: {len(latencies)} of {pushes} placed; {_ms(latencies)}")


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


def _drain(_: int) -> int:
    """One dispatch worker: dispatch batches until no lead is due; how many it claimed."""
    import django

    django.setup()
    from leads.dispatch.services import leads_dispatch_due

    claimed = 0
    while (report := leads_dispatch_due()).claimed:
        claimed += report.claimed
    return claimed


def throughput(template: Any, leads: int) -> None:
    """Two processes dispatch `leads` due leads to the point of enqueueing their placement."""
    import multiprocessing

    from django.db import connection

    _due_leads_insert(template, leads)
    connection.close()
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        claimed = sum(pool.map(_drain, range(2)))
    elapsed = time.monotonic() - started
    print(f"dispatch {claimed:,} due leads with two processes: {claimed / elapsed:,.0f} leads/s")


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
    """Per lead: the dispatch transaction, the placement's enqueue, `call_place` to the provider."""
    from calls.models import Call
    from leads.dispatch.services import leads_dispatch_batch
    from telephony import services as telephony_services

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
    count = sum(len(call_ids) for call_ids in dialled)
    telephony_services.PLACERS["simulator"] = lambda call: None
    begin = time.perf_counter()
    for call_id in Call.objects.filter(lead__merchant_id=template.merchant_id).values_list(
        "pk", flat=True
    ):
        telephony_services.call_place(call_id=call_id)
    place = time.perf_counter() - begin
    per = {
        "dispatch transaction": (sum(batches) - enqueue) / count,
        "enqueue placement": enqueue / count,
        "call_place to the provider": place / count,
    }
    for stage, seconds in per.items():
        print(f"{stage}: {seconds * 1000:.3f} ms/lead")
    print(f"all three: {sum(per.values()) * 1000:.3f} ms of one core per lead ({count:,} leads)")


def _payload_json() -> str:
    import json

    from tests.demo_payloads import DEMO_PAYLOADS

    return json.dumps(DEMO_PAYLOADS["order-confirmation"])


def teardown() -> None:
    from django.db import connection

    from config.models import Merchant

    merchant = Merchant.objects.filter(slug=SLUG).first()
    if merchant is None:
        return
    with connection.cursor() as cursor:
        for table in ("leads_leadtransition", "calls_call", "leads_lead"):
            column = "lead_id IN (SELECT id FROM leads_lead WHERE merchant_id = %s)"
            where = column if table == "leads_leadtransition" else "merchant_id = %s"
            cursor.execute(f"DELETE FROM {table} WHERE {where}", [merchant.pk])
    merchant.templates.all().delete()
    merchant.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=50)
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--throughput", type=int, default=10_000)
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
        latency(template, options.pushes)
        throughput(template, options.throughput)
        claims(template, options.leads, options.claims)
    finally:
        teardown()


if __name__ == "__main__":
    main()
