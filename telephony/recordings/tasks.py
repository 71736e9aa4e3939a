"""Thin, id-only tasks for provider recordings; the work is in download.py."""

from __future__ import annotations

from celery import shared_task

from calls.recordings.selectors import recordings_pending_due
from telephony.recordings.download import recording_download

# Pending downloads due this long with nothing done are taken to have lost their task.
SWEEP_GRACE_SECONDS = 60


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=330)
def recording_download_task(recording_id: int) -> None:
    delay = recording_download(recording_id=recording_id)
    if delay is not None:
        recording_download_task.apply_async(args=(recording_id,), countdown=delay)


@shared_task(acks_late=True, ignore_result=True)
def recording_download_sweep_task() -> None:
    for recording_id in recordings_pending_due(grace_seconds=SWEEP_GRACE_SECONDS):
        recording_download_task.delay(recording_id)
