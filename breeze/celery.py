"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app."""

from __future__ import annotations

import os

from celery import Celery
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
