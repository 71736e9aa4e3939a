"""Signed, expiring links to a recording: the link is the credential, so it needs no login.

The token carries the recording's id and its expiry, signed with SECRET_KEY; changing either
breaks the signature. An expired link is told apart from a forged one (410, not 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

SALT = "breeze.recordings.link"


class LinkTamperedError(Exception):
    pass


class LinkExpiredError(Exception):
    pass


@dataclass(frozen=True)
class RecordingLink:
    url: str
    expires_at: datetime


def recording_link(
    *, recording_id: int, ttl_seconds: int, now: datetime | None = None
) -> RecordingLink:
    expires_at = (now or timezone.now()).replace(microsecond=0) + timedelta(seconds=ttl_seconds)
    token = signing.dumps([recording_id, int(expires_at.timestamp())], salt=SALT)
    path = reverse("recording-download", kwargs={"token": token})
    return RecordingLink(url=settings.PUBLIC_BASE_URL.rstrip("/") + path, expires_at=expires_at)


def recording_link_open(*, token: str, now: datetime | None = None) -> int:
    """The recording id a link names; raises when the link was altered or has expired."""
    try:
        recording_id, expires = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise LinkTamperedError from error
    if datetime.fromtimestamp(expires, tz=UTC) <= (now or timezone.now()):
        raise LinkExpiredError
    return int(recording_id)
