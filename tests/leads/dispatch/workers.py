"""What the dispatch fault tests share: a real worker's command and environment, due leads."""

from __future__ import annotations

import redis
from django.conf import settings
from django.utils import timezone

from calls.models import Call
from leads.models import Lead
from leads.tasks import dispatch_due_leads
from templates_app.models import Template
from tests.demo_payloads import DEMO_PAYLOADS
from tests.processes import BIN, subprocess_env

WORKER = [
    str(BIN / "celery"),
    "-A",
    "breeze",
    "worker",
    "--pool",
    "solo",
    "--queues",
    "dispatch",
    "--without-mingle",
    "--without-gossip",
    "--loglevel",
    "INFO",
]


def due_leads_create(*, template: Template, count: int, prefix: str) -> None:
    """`count` leads due now, numbered `prefix` + seven digits."""
    now = timezone.now()
    version = template.versions.get()
    Lead.objects.bulk_create(
        Lead(
            merchant_id=template.merchant_id,
            template=template,
            template_version=version,
            phone=f"{prefix}{number:07d}",
            payload=dict(DEMO_PAYLOADS["order-confirmation"]),
            next_attempt_at=now,
        )
        for number in range(count)
    )


def worker_env() -> dict[str, str]:
    """Local settings: a worker that enqueues placements rather than running them eagerly."""
    return subprocess_env(
        DJANGO_SETTINGS_MODULE="breeze.settings.local",
        REDIS_URL=settings.REDIS_URL,
        BREEZE_DISPATCH_BATCH="10",
        BREEZE_MERCHANT_CONCURRENCY="100000",
    )


def beat_tick(broker: redis.Redis, *, calls: int) -> bool | None:
    """What beat does every second: a dispatch run whenever none is waiting; True at `calls`."""
    if Call.objects.count() == calls:
        return True
    if broker.llen("dispatch") == 0:
        dispatch_due_leads.delay()
    return None
