"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import beat_init, worker_init
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.local")

app = Celery("breeze")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _declare_queues(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    # One exchange and routing key per queue: on a shared key Redis would copy every message
    # into every queue.
    sender.conf.task_queues = [
        Queue(name, Exchange(name), routing_key=name) for name in settings.CELERY_TASK_QUEUES_NAMES
    ]


@worker_init.connect
def _trace_worker(**kwargs: object) -> None:
    # Before the pool forks: children inherit the instrumentation (the SDK restarts its
    # export thread after a fork).
    from config.tracing.setup import tracing_configure

    tracing_configure(service_name="breeze-worker")


@beat_init.connect
def _trace_beat(**kwargs: object) -> None:
    from config.tracing.setup import tracing_configure

    tracing_configure(service_name="breeze-beat")
