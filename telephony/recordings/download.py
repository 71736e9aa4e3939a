"""Provider recordings: fetch the file the provider announced and put it in storage.

The recording row (calls) says what is due; each provider's adapter knows where the file is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from calls.models import Call
from calls.recordings.services import (
    recording_download_claim,
    recording_download_failed,
    recording_download_store,
)
from calls.recordings.storage import wav_duration_seconds
from telephony.providers.plivo.recordings import plivo_recording_fetch
from telephony.providers.twilio.recordings import twilio_recording_fetch
from telephony.recordings.fetch import FetchedRecording, RecordingFetchError

logger = logging.getLogger(__name__)

Fetcher = Callable[[Call, str], FetchedRecording]
FETCHERS: dict[str, Fetcher] = {"twilio": twilio_recording_fetch, "plivo": plivo_recording_fetch}


def recording_download(*, recording_id: int) -> float | None:
    """One download attempt; the delay before the next attempt, or None when none is due."""
    claim = recording_download_claim(recording_id=recording_id)
    if claim is None:
        return None
    fetch = FETCHERS.get(claim.source)
    if fetch is None:
        error = f"Breeze cannot download {claim.source} recordings"
        return recording_download_failed(claim=claim, error=error, retryable=False)
    call = Call.objects.get(pk=claim.call_id)
    try:
        fetched = fetch(call, claim.provider_recording_id)
    except RecordingFetchError as error:
        return recording_download_failed(claim=claim, error=str(error), retryable=error.retryable)
    with fetched.content:
        recording_download_store(
            claim=claim,
            content=fetched.content,
            content_type=fetched.content_type,
            duration_seconds=wav_duration_seconds(fetched.content),
        )
    return None
