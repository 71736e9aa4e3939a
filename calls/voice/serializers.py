"""The provider's own Pipecat serializer, built from the stream's `start` message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from calls.exceptions import CallNotAllowedError
from templates_app.pipecat_compat import (
    ExotelFrameSerializer,
    FrameSerializer,
    PlivoFrameSerializer,
    TwilioFrameSerializer,
)

# The simulator speaks Twilio's protocol exactly; there is nobody to hang up on.
TWILIO_PROTOCOL = frozenset({"twilio", "simulator"})
# Bot audio per message, in 10 ms units: 20 ms frames, but Exotel plays only chunks of at
# least 100 ms (in multiples of 320 bytes, which whole 10 ms units of 8 kHz PCM16 are).
OUT_10MS_CHUNKS = {"exotel": 10}
DEFAULT_OUT_10MS_CHUNKS = 2


def stream_ids(provider: str, start: Mapping[str, Any]) -> tuple[str, str]:
    """(stream id, provider call id) from a provider's `start` message."""
    body = start.get("start", {})
    if provider in TWILIO_PROTOCOL:
        return body["streamSid"], body["callSid"]
    if provider == "plivo":
        return body["streamId"], body["callId"]
    if provider == "exotel":
        return body["stream_sid"], body["call_sid"]
    raise CallNotAllowedError(f"no media protocol for provider {provider!r}", field="provider")


def build_serializer(
    provider: str, start: Mapping[str, Any], *, credentials: Mapping[str, Mapping[str, str]]
) -> FrameSerializer:
    stream_id, call_id = stream_ids(provider, start)
    secrets = credentials.get(provider, {})
    if provider in TWILIO_PROTOCOL:
        return TwilioFrameSerializer(
            stream_id,
            call_sid=call_id,
            account_sid=secrets.get("account_sid"),
            auth_token=secrets.get("auth_token"),
            # The hang-up at the end of a call goes where placing it went (a local server in
            # tests and demos, a regional edge in production).
            base_url=settings.TWILIO_API_BASE_URL or None,
            params=TwilioFrameSerializer.InputParams(
                auto_hang_up=provider == "twilio" and bool(secrets)
            ),
        )
    if provider == "plivo":
        return PlivoFrameSerializer(
            stream_id,
            call_id=call_id,
            auth_id=secrets.get("auth_id"),
            auth_token=secrets.get("auth_token"),
            params=PlivoFrameSerializer.InputParams(auto_hang_up=bool(secrets)),
        )
    return ExotelFrameSerializer(stream_id, call_sid=call_id)
