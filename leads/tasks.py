"""Thin, id-only Celery tasks for leads; the work is in services."""

from __future__ import annotations

from celery import shared_task

from leads.dispatch.limiter import limiter_redis
from leads.dispatch.reconcile import calls_reconcile_stuck, limiter_reconcile
from leads.dispatch.services import leads_dispatch_due
from leads.imports import lead_import_run


# acks_late with idempotent chunks: a task whose worker died is redelivered and resumes.
@shared_task(acks_late=True, soft_time_limit=3600, time_limit=3660)
def lead_import_run_task(import_id: int) -> None:
    lead_import_run(import_id=import_id)


# Beat runs it every second and pushes kick it; overlapping runs skip each other's leads.
@shared_task(acks_late=True)
def dispatch_due_leads() -> None:
    leads_dispatch_due()


# Beat, every 30 s: stuck placements and the limiter's slots, repaired from PostgreSQL.
@shared_task(acks_late=True)
def dispatch_reconcile() -> None:
    calls_reconcile_stuck()
    limiter_reconcile(client=limiter_redis())
