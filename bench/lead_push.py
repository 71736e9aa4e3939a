"""Lead push: one lead per request versus 10,000 in one bulk request.

Run (against a migrated database, with Redis):
  DATABASE_URL=postgres://…/breeze .venv/bin/python bench/lead_push.py [--single 300 --bulk 10000]

Requests go through the whole Django stack in this process (middleware, API-key Bearer
authentication, rate limiting, parsing, validation, INSERTs, serialization) without a network
hop, so the times are server time. It pushes `--single` leads one at a time (median server
time per push), then the same `--bulk` leads twice: one by one (or the first `--each` of
them, on a slow day), and in one bulk request.
Prints the medians, leads per second each way and the ratio. Everything it creates belongs to
a fresh merchant that is deleted at the end. The dispatcher kicks each push sends are
published to the test broker (TEST_REDIS_URL) and purged at the end, so no call is placed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.test")
# The benchmark is one caller pushing far above the per-key production rate.
os.environ.setdefault("API_RATE_LIMIT", "100000000/min")


def lead(index: int, prefix: str) -> dict[str, Any]:
    return {
        "template": "order-confirmation",
        "phone": f"+9198{index:08d}",
        "payload": {
            "customer_name": f"Customer {index}",
            "order_id": f"A{index}",
            "order_total": f"{index} rupees",
        },
        "idempotency_key": f"{prefix}-{index}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--bulk", type=int, default=10_000)
    parser.add_argument(
        "--each", type=int, default=None, help="push only the first N one by one (default all)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from celery import current_app
    from django.test import Client

    # Measure the push alone: dispatcher kicks are queued (then purged), not run in-process.
    current_app.conf.task_always_eager = False

    from config.models import Merchant
    from config.services import api_key_create, merchant_create
    from leads.models import Lead, LeadTransition
    from templates_app.models import Template
    from templates_app.services import template_load_demos

    merchant = merchant_create(
        name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}", time_zone="Asia/Kolkata"
    )
    template_load_demos(merchant=merchant)
    _, token = api_key_create(merchant=merchant, role="operator", name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")

    # CPU time of this process per request (PostgreSQL's share is not in it): steadier than
    # wall time when other work shares the machine.
    cpu: dict[str, list[float]] = {"single": [], "each": [], "bulk": []}

    def post(path: str, body: Any, kind: str = "") -> float:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.post(path, body, content_type="application/json")
        elapsed = time.perf_counter() - started
        if kind:
            cpu[kind].append(time.process_time() - started_cpu)
        assert response.status_code == 201, response.content[:500]
        return elapsed

    try:
        for index in range(20):  # warm caches and connections
            post("/api/v1/leads", lead(index, "warm"))
        singles = [
            post("/api/v1/leads", lead(index, "single"), "single") for index in range(args.single)
        ]

        each = args.bulk if args.each is None else args.each
        one_by_one = sum(
            post("/api/v1/leads", lead(index, "each"), "each") for index in range(each)
        )
        bulk_body = {"leads": [lead(i, "bulk") for i in range(args.bulk)]}
        bulk = post("/api/v1/leads/bulk", bulk_body, "bulk")
        assert Lead.objects.filter(merchant=merchant).count() == 20 + args.single + each + args.bulk
    finally:
        leads = Lead.objects.filter(merchant=merchant)
        LeadTransition.objects.filter(lead__in=leads).delete()
        leads.delete()
        Template.objects.filter(merchant=merchant).delete()
        Merchant.objects.filter(pk=merchant.pk).delete()
        current_app.control.purge()

    report(
        singles=singles, each=each, one_by_one=one_by_one, bulk_size=args.bulk, bulk=bulk, cpu=cpu
    )


def report(
    *,
    singles: list[float],
    each: int,
    one_by_one: float,
    bulk_size: int,
    bulk: float,
    cpu: dict[str, list[float]],
) -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(
        f"single push   median {statistics.median(singles) * 1000:6.2f} ms  "
        f"(p90 {statistics.quantiles(singles, n=10)[-1] * 1000:.2f}, n={len(singles)})"
    )
    each_rate, bulk_rate = each / one_by_one, bulk_size / bulk
    print(f"one by one    {each} leads in {one_by_one:6.2f} s  = {each_rate:7.0f} leads/s")
    print(f"bulk request  {bulk_size} leads in {bulk:6.2f} s  = {bulk_rate:7.0f} leads/s")
    print(f"ratio bulk / one by one (leads per second): {bulk_rate / each_rate:.1f}x")
    each_cpu, bulk_cpu = sum(cpu["each"]), cpu["bulk"][0]
    print(
        f"CPU of this process: single median {statistics.median(cpu['single']) * 1000:.2f} ms, "
        f"one by one {each / each_cpu:.0f} leads/s, bulk {bulk_size / bulk_cpu:.0f} leads/s, "
        f"ratio {(bulk_size / bulk_cpu) / (each / each_cpu):.1f}x"
    )


if __name__ == "__main__":
    main()
