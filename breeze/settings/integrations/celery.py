from __future__ import annotations

from breeze.settings.env import env_int, env_str
from breeze.settings.integrations.leads import BREEZE_CAMPAIGN_TICK_SECONDS

_REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
# A task whose worker died is redelivered rather than dropped; tasks are idempotent.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup otherwise closes the database connection around every task, so each
# task paid a new PostgreSQL connection (a backend fork); reuse it for this many tasks.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Named queues keep slow provider I/O from starving dispatch (ARCHITECTURE.md, processes).
CELERY_TASK_QUEUES_NAMES = ["default", "dispatch", "telephony", "webhooks", "postcall"]
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Declared in code; django-celery-beat's database scheduler copies these into its tables.
CELERY_BEAT_SCHEDULE = {
    "service-heartbeat": {
        "task": "config.tasks.service_heartbeat",
        "schedule": 30.0,
        "args": ("celery",),
    },
    "webhook-sweeper": {
        "task": "calls.webhooks.tasks.webhook_sweep_task",
        "schedule": 5.0,
        "options": {"queue": "webhooks"},
    },
    "call-extraction-sweeper": {
        "task": "calls.extraction.tasks.call_extraction_sweep_task",
        "schedule": 10.0,
        "options": {"queue": "postcall", "expires": 20},
    },
    # Pushes and dispatch-now kick the dispatcher at once; this catches leads coming due.
    "lead-dispatch": {
        "task": "leads.tasks.dispatch_due_leads",
        "schedule": 1.0,
        "options": {"queue": "dispatch", "expires": 5},
    },
    "lead-dispatch-reconcile": {
        "task": "leads.tasks.dispatch_reconcile",
        "schedule": 30.0,
        "options": {"queue": "dispatch", "expires": 60},
    },
    # One tick for every running campaign (docs/dispatch.md, "Campaigns").
    "campaign-tick": {
        "task": "leads.campaigns.tasks.campaigns_tick_task",
        "schedule": float(BREEZE_CAMPAIGN_TICK_SECONDS),
        "options": {"queue": "dispatch", "expires": 2 * BREEZE_CAMPAIGN_TICK_SECONDS},
    },
}
# Task modules outside an app's tasks.py, which autodiscovery would not import.
CELERY_IMPORTS = ["calls.webhooks.tasks", "calls.extraction.tasks", "calls.langfuse.tasks"]
CELERY_TASK_ROUTES = {
    "calls.webhooks.tasks.*": {"queue": "webhooks"},
    "calls.extraction.tasks.*": {"queue": "postcall"},
    "calls.langfuse.tasks.*": {"queue": "postcall"},
    "leads.tasks.dispatch_*": {"queue": "dispatch"},
    "telephony.tasks.call_place_task": {"queue": "telephony"},
}
# Campaign tasks live in their package (leads/campaigns/tasks.py).
CELERY_IMPORTS += ["leads.campaigns.tasks"]
CELERY_TASK_ROUTES["leads.campaigns.tasks.*"] = {"queue": "dispatch"}
# Daily's tasks live with its provider (telephony/providers/daily/tasks.py); the pool keeps
# each merchant's warm rooms topped up and retires expired and used ones (docs/providers.md).
CELERY_IMPORTS += ["telephony.providers.daily.tasks"]
CELERY_TASK_ROUTES["telephony.providers.daily.tasks.*"] = {"queue": "telephony"}
CELERY_BEAT_SCHEDULE["daily-room-pool"] = {
    "task": "telephony.providers.daily.tasks.daily_room_pool_maintain_task",
    "schedule": 30.0,
    "options": {"queue": "telephony", "expires": 60},
}
# Recordings (docs/recordings.md): expired ones deleted, provider downloads whose task was
# lost (Redis flushed, worker killed) handed out again.
CELERY_BEAT_SCHEDULE["recording-retention"] = {
    "task": "calls.recordings.tasks.recordings_expire_task",
    "schedule": 3600.0,
    "options": {"queue": "postcall", "expires": 1800},
}
CELERY_BEAT_SCHEDULE["recording-download-sweeper"] = {
    "task": "telephony.recordings.tasks.recording_download_sweep_task",
    "schedule": 60.0,
    "options": {"queue": "telephony", "expires": 60},
}
CELERY_IMPORTS += ["calls.recordings.tasks", "telephony.recordings.tasks"]
CELERY_TASK_ROUTES["calls.recordings.tasks.*"] = {"queue": "postcall"}
CELERY_TASK_ROUTES["telephony.recordings.tasks.*"] = {"queue": "telephony"}
# Calls that rang but never connected media and never heard back (telephony/unconnected.py).
CELERY_BEAT_SCHEDULE["calls-unconnected-reconcile"] = {
    "task": "telephony.tasks.calls_reconcile_unconnected_task",
    "schedule": 60.0,
    "options": {"queue": "telephony", "expires": 120},
}
