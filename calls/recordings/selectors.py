"""Reads for recordings: what a call should record, and who may reach which file."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from calls.recordings.links import recording_link
from calls.recordings.models import Recording
from config.selectors import scope_queryset
from config.types import Resource
from templates_app.definition.recording import PROVIDER_RECORDERS

if TYPE_CHECKING:
    from config.selectors import AnyUser


def recording_mode(*, definition: dict[str, Any], provider: str) -> str:
    """Who records a call: "off", "worker" or "provider" (the template's `execution.recording`).

    A provider that cannot record (the simulator, Exotel) leaves it to the worker.
    """
    mode = str(definition.get("execution", {}).get("recording", "off"))
    if mode == "provider" and provider not in PROVIDER_RECORDERS:
        return "worker"
    return mode


def recording_list(*, user: AnyUser) -> QuerySet[Recording]:
    return scope_queryset(Recording.objects.all(), user=user, resource=Resource.CALL)


def recording_for_call(*, user: AnyUser, call_id: int) -> Recording | None:
    return recording_list(user=user).filter(call_id=call_id).first()


def recording_stored(*, recording_id: int) -> Recording | None:
    return Recording.objects.filter(pk=recording_id, status=Recording.Status.STORED).first()


def call_recording_url(*, call_id: int) -> str | None:
    """A signed link to a call's stored recording for its webhook, or None."""
    recording_id = (
        Recording.objects.filter(call_id=call_id, status=Recording.Status.STORED)
        .values_list("pk", flat=True)
        .first()
    )
    if recording_id is None:
        return None
    ttl = settings.BREEZE_RECORDING_WEBHOOK_URL_TTL_SECONDS
    return recording_link(recording_id=recording_id, ttl_seconds=ttl).url


def recordings_pending_due(*, grace_seconds: int, batch: int = 500) -> list[int]:
    """Pending downloads due for a while with no task on them (lost with Redis or a worker)."""
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    return list(
        Recording.objects.filter(status=Recording.Status.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
