"""Writes for recordings: store a file, track a provider download, apply retention."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from calls.models import Call
from calls.recordings.models import Recording, RecordingRetention
from calls.recordings.storage import recording_file_name, recordings_storage

logger = logging.getLogger(__name__)

Status = Recording.Status
# A claimed download not finished by then is taken to be lost with its worker.
DOWNLOAD_LEASE_SECONDS = 300


def _retention_days(*, merchant_id: int) -> int:
    days = (
        RecordingRetention.objects.filter(merchant_id=merchant_id)
        .values_list("days", flat=True)
        .first()
    )
    return days if days is not None else int(settings.BREEZE_RECORDING_RETENTION_DAYS)


def _save(*, merchant_id: int, call_id: int, content: IO[bytes], content_type: str) -> str:
    name = recording_file_name(merchant_id=merchant_id, call_id=call_id, content_type=content_type)
    return recordings_storage().save(name, File(content, name=name))


def recording_store(
    *,
    call_id: int,
    source: str,
    content: IO[bytes],
    content_type: str,
    duration_seconds: float | None,
) -> Recording:
    """Store a finished recording the worker made; a call keeps the first one stored."""
    merchant_id = Call.objects.values_list("merchant_id", flat=True).get(pk=call_id)
    name = _save(
        merchant_id=merchant_id, call_id=call_id, content=content, content_type=content_type
    )
    now = timezone.now()
    storage = recordings_storage()
    try:
        with transaction.atomic():
            return Recording.objects.create(
                merchant_id=merchant_id,
                call_id=call_id,
                source=source,
                status=Status.STORED,
                storage_name=name,
                content_type=content_type,
                duration_seconds=duration_seconds,
                size_bytes=storage.size(name),
                stored_at=now,
                expires_at=now + timedelta(days=_retention_days(merchant_id=merchant_id)),
            )
    except IntegrityError:
        storage.delete(name)
        logger.warning("call %s already has a recording; the %s one was dropped", call_id, source)
        return Recording.objects.get(call_id=call_id)


def recording_register_provider(
    *, call_id: int, source: str, provider_recording_id: str, duration_seconds: float | None
) -> Recording | None:
    """Remember a provider's finished recording for download; None if the call has one already.

    A repeated callback therefore starts no second download.
    """
    merchant_id = Call.objects.values_list("merchant_id", flat=True).get(pk=call_id)
    now = timezone.now()
    recording, created = Recording.objects.get_or_create(
        call_id=call_id,
        defaults={
            "merchant_id": merchant_id,
            "source": source,
            "provider_recording_id": provider_recording_id,
            "duration_seconds": duration_seconds,
            "next_attempt_at": now,
            "expires_at": now + timedelta(days=_retention_days(merchant_id=merchant_id)),
        },
    )
    return recording if created else None


@dataclass(frozen=True)
class DownloadClaim:
    recording_id: int
    call_id: int
    source: str
    provider_recording_id: str
    attempt: int


def recording_download_claim(*, recording_id: int) -> DownloadClaim | None:
    """Take a due pending download for one attempt; None if it is not due, done or taken.

    The claim pushes `next_attempt_at` out by a lease, so a redelivered task or the sweeper
    cannot download the same file twice while this attempt runs.
    """
    now = timezone.now()
    row = (
        Recording.objects.filter(pk=recording_id, status=Status.PENDING, next_attempt_at__lte=now)
        .values("call_id", "source", "provider_recording_id", "download_attempts")
        .first()
    )
    if row is None:
        return None
    attempt = row["download_attempts"] + 1
    claimed = Recording.objects.filter(
        pk=recording_id, status=Status.PENDING, download_attempts=attempt - 1
    ).update(
        download_attempts=attempt,
        next_attempt_at=now + timedelta(seconds=DOWNLOAD_LEASE_SECONDS),
        updated_at=now,
    )
    if not claimed:
        return None
    return DownloadClaim(
        recording_id, row["call_id"], row["source"], row["provider_recording_id"], attempt
    )


def recording_download_store(
    *, claim: DownloadClaim, content: IO[bytes], content_type: str, duration_seconds: float | None
) -> bool:
    """Store a downloaded file for a claimed recording; False (file dropped) if no longer pending."""
    merchant_id = Recording.objects.values_list("merchant_id", flat=True).get(pk=claim.recording_id)
    name = _save(
        merchant_id=merchant_id, call_id=claim.call_id, content=content, content_type=content_type
    )
    storage = recordings_storage()
    now = timezone.now()
    fields = {
        "status": Status.STORED,
        "storage_name": name,
        "content_type": content_type,
        "size_bytes": storage.size(name),
        "stored_at": now,
        "next_attempt_at": None,
        "last_error": "",
        "updated_at": now,
    }
    if duration_seconds is not None:
        fields["duration_seconds"] = duration_seconds
    stored = Recording.objects.filter(pk=claim.recording_id, status=Status.PENDING).update(**fields)
    if not stored:
        storage.delete(name)
    return stored == 1


def recording_download_failed(*, claim: DownloadClaim, error: str, retryable: bool) -> float | None:
    """Record a failed attempt; the delay before the next one, or None when it gave up."""
    now = timezone.now()
    pending = Recording.objects.filter(
        pk=claim.recording_id, status=Status.PENDING, download_attempts=claim.attempt
    )
    if retryable and claim.attempt < settings.BREEZE_RECORDING_DOWNLOAD_ATTEMPTS:
        delay = float(settings.BREEZE_RECORDING_DOWNLOAD_RETRY_SECONDS * 2 ** (claim.attempt - 1))
        pending.update(
            next_attempt_at=now + timedelta(seconds=delay), last_error=error, updated_at=now
        )
        logger.info(
            "recording %s: attempt %s failed (%s)", claim.recording_id, claim.attempt, error
        )
        return delay
    pending.update(status=Status.FAILED, next_attempt_at=None, last_error=error, updated_at=now)
    logger.warning(
        "recording %s: download failed for good after %s attempts: %s",
        claim.recording_id,
        claim.attempt,
        error,
    )
    return None


def recording_retention_set(*, merchant_id: int, days: int) -> RecordingRetention:
    """Set a merchant's retention; its recordings, old and new, expire that long after creation."""
    with transaction.atomic():
        retention, _ = RecordingRetention.objects.update_or_create(
            merchant_id=merchant_id, defaults={"days": days}
        )
        Recording.objects.filter(merchant_id=merchant_id).update(
            expires_at=F("created_at") + timedelta(days=days)
        )
    return retention


def recordings_delete_expired(*, now: datetime | None = None, batch: int = 500) -> int:
    """Delete expired recordings, file first, then row; returns how many rows went.

    A run interrupted between the two leaves a row whose file is already gone; the next run
    deletes it again (deleting a missing file is a no-op in every storage backend).
    """
    now = now or timezone.now()
    storage = recordings_storage()
    deleted = 0
    while expired := list(
        Recording.objects.filter(expires_at__lte=now).values_list("pk", "storage_name")[:batch]
    ):
        for pk, name in expired:
            if name:
                storage.delete(name)
            Recording.objects.filter(pk=pk).delete()
        deleted += len(expired)
    if deleted:
        logger.info("deleted %d expired recordings", deleted)
    return deleted
