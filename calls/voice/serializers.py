"""The provider's own Pipecat serializer, built from the stream's `start` message."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from django.conf import settings

from calls.exceptions import CallNotAllowedError
from templates_app.pipecat_compat import (
    ExotelFrameSerializer,
    FrameSerializer,
    PlivoFrameSerializer,
    TwilioFrameSerializer,
)

logger = logging.getLogger(__name__)

# The simulator speaks Twilio's protocol exactly; there is nobody to hang up on.
TWILIO_PROTOCOL = frozenset({"twilio", "simulator"})
# Bot audio per message, in 10 ms units: 20 ms frames, but Exotel plays only chunks of at
# least 100 ms (in multiples of 320 bytes, which whole 10 ms units of 8 kHz PCM16 are).
OUT_10MS_CHUNKS = {"exotel": 10}
DEFAULT_OUT_10MS_CHUNKS = 2


class ConfiguredPlivoSerializer(PlivoFrameSerializer):
    """Pipecat's Plivo serializer, hanging up where placing the call went.

    Pipecat's own always asks api.plivo.com, so a call placed through a local server (tests,
    the demo sandbox) or a proxy would never be hung up at the end.
    """

    def __init__(self, stream_id: str, *, call_id: str, auth_id: str, auth_token: str) -> None:
        super().__init__(
            stream_id,
            call_id=call_id,
            auth_id=auth_id,
            auth_token=auth_token,
            params=PlivoFrameSerializer.InputParams(auto_hang_up=True),
        )
        self._plivo_auth = {"Authorization": aiohttp.encode_basic_auth(auth_id, auth_token)}
        root = settings.PLIVO_API_BASE_URL.rstrip("/")
        self._hang_up_url = f"{root}/v1/Account/{auth_id}/Call/{call_id}/"

    async def _hang_up_call(self) -> None:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.delete(self._hang_up_url, headers=self._plivo_auth) as response,
            ):
                # 204: hung up; 404: the customer had already gone.
                if response.status not in (204, 404):
                    logger.error(
                        "Plivo hang-up answered %s: %s", response.status, await response.text()
                    )
        except aiohttp.ClientError as error:
            logger.error("Plivo hang-up failed: %s", error)


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
        auth_id, auth_token = secrets.get("auth_id"), secrets.get("auth_token")
        if auth_id and auth_token:
            return ConfiguredPlivoSerializer(
                stream_id, call_id=call_id, auth_id=auth_id, auth_token=auth_token
            )
        return PlivoFrameSerializer(
            stream_id, call_id=call_id, params=PlivoFrameSerializer.InputParams(auto_hang_up=False)
        )
    return ExotelFrameSerializer(stream_id, call_sid=call_id)
