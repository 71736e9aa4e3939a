"""Twilio call recordings, requested when the call is placed and downloaded after a callback.

The signed recording-status callback announces the file, which is downloaded as WAV from
the REST API (the configured base URL) with the account's credentials.
"""

from __future__ import annotations

from django.conf import settings

from calls.models import Call
from calls.recordings.storage import WAV
from telephony.providers.shared import callback_url, provider_secrets
from telephony.providers.twilio.signature import twilio_signature_valid
from telephony.recordings.announce import recording_callback_view
from telephony.recordings.fetch import FetchedRecording, RecordingFetchError, http_download

TWILIO_API_ROOT = "https://api.twilio.com"


def twilio_recording_options(*, call: Call) -> dict[str, object]:
    """`calls.create` arguments that record the whole call and report when the file is ready."""
    return {
        "record": True,
        "recording_channels": "mono",
        "recording_status_callback": callback_url(
            provider="twilio", call_id=call.pk, kind="recording"
        ),
        "recording_status_callback_method": "POST",
        "recording_status_callback_event": ["completed"],
    }


twilio_recording_status = recording_callback_view(
    provider="twilio",
    valid=twilio_signature_valid,
    recording_field="RecordingSid",
    call_field="CallSid",
    # `absent` (nothing recorded) and `failed` leave the call without a recording.
    ready=lambda request: request.POST.get("RecordingStatus") == "completed",
)


def twilio_recording_fetch(call: Call, recording_sid: str) -> FetchedRecording:
    secrets = provider_secrets(call=call)
    if secrets is None:
        raise RecordingFetchError("the merchant has no active Twilio credential", retryable=False)
    root = (settings.TWILIO_API_BASE_URL or TWILIO_API_ROOT).rstrip("/")
    account = secrets["account_sid"]
    url = f"{root}/2010-04-01/Accounts/{account}/Recordings/{recording_sid}.wav"
    return http_download(url, auth=(account, secrets["auth_token"]), content_type=WAV)
