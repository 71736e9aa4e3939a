"""Plivo call recordings, requested in the answer XML and downloaded after a signed callback.

A `<Record recordSession>` before the stream records the whole call; its callback announces
the recording, and the file is downloaded from the URL the REST API (the configured root)
gives for it, with the account's credentials.
"""

from __future__ import annotations

from django.conf import settings
from plivo import plivoxml

from calls.models import Call
from calls.recordings.storage import WAV
from telephony.providers.plivo.signature import plivo_signature_valid
from telephony.providers.shared import callback_url, provider_secrets
from telephony.recordings.announce import recording_callback_view
from telephony.recordings.fetch import (
    FetchedRecording,
    RecordingFetchError,
    http_download,
    http_get,
)


def plivo_record_element(*, call: Call) -> plivoxml.RecordElement:
    """Record the session in the background (the stream that follows runs at once)."""
    return plivoxml.RecordElement(
        record_session=True,
        file_format="wav",
        redirect=False,
        max_length=3600,
        callback_url=callback_url(provider="plivo", call_id=call.pk, kind="recording"),
        callback_method="POST",
    )


plivo_recording_status = recording_callback_view(
    provider="plivo",
    valid=plivo_signature_valid,
    recording_field="RecordingID",
    call_field="CallUUID",
)


def plivo_recording_fetch(call: Call, recording_id: str) -> FetchedRecording:
    secrets = provider_secrets(call=call)
    if secrets is None:
        raise RecordingFetchError("the merchant has no active Plivo credential", retryable=False)
    auth = (secrets["auth_id"], secrets["auth_token"])
    root = settings.PLIVO_API_BASE_URL.rstrip("/")
    with http_get(f"{root}/v1/Account/{auth[0]}/Recording/{recording_id}/", auth=auth) as found:
        try:
            url = str(found.json()["recording_url"])
        except (ValueError, KeyError, TypeError) as error:
            raise RecordingFetchError(
                "Plivo's recording answer has no recording_url", retryable=False
            ) from error
    return http_download(url, auth=auth, content_type=WAV)
