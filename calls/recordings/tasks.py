from __future__ import annotations

from celery import shared_task

from calls.recordings.services import recordings_delete_expired


@shared_task(acks_late=True, ignore_result=True)
def recordings_expire_task() -> None:
    recordings_delete_expired()
