"""The three media-stream dialects the simulated customer speaks: Twilio, Plivo and Exotel.

Each builds the messages its provider sends (pipecat-1.14.md §1.4) and reads the ones the
bot sends back. Audio goes in and out as 8 kHz 16-bit PCM; the dialect encodes it (μ-law for
Twilio and Plivo, raw PCM for Exotel).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from telephony.providers.simulator.audio import pcm_to_ulaw, ulaw_to_pcm

Incoming = Literal["media", "mark", "clear"]
# Exotel plays bot audio in chunks of whole 20 ms PCM frames and at least 100 ms.
EXOTEL_CHUNK_BYTES: Final = 320
EXOTEL_MIN_CHUNK_BYTES: Final = 1600


@dataclass(frozen=True)
class StreamIds:
    account_sid: str
    call_sid: str
    stream_sid: str


class Protocol:
    name = ""
    stream_key = ""
    sequence_key = "sequenceNumber"
    # Event names of what the bot sends: media, mark (a playback checkpoint), clear.
    incoming: Mapping[str, Incoming] = {}

    def __init__(self, ids: StreamIds) -> None:
        self.ids = ids
        self.sequence = 0

    title = ""
    mark_field = "mark.name"

    def numbered(self, message: dict[str, Any]) -> dict[str, Any]:
        """`message` with the next sequence number, in send order."""
        self.sequence += 1
        return {"event": message["event"], self.sequence_key: str(self.sequence)} | message

    def opening(self, parameters: Mapping[str, str]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def media(self, pcm: bytes, *, chunk: int, timestamp_ms: int) -> dict[str, Any]:
        raise NotImplementedError

    def dtmf(self, digit: str) -> dict[str, Any]:
        raise NotImplementedError

    def mark_echo(self, name: str) -> dict[str, Any]:
        raise NotImplementedError

    def stop(self) -> dict[str, Any] | None:
        """The last message before the socket closes, if the provider sends one."""
        raise NotImplementedError

    def mark_name(self, message: Mapping[str, Any]) -> object:
        mark = message.get("mark")
        return mark.get("name") if isinstance(mark, dict) else None

    def audio(self, payload: bytes, message: Mapping[str, Any]) -> tuple[bytes, str | None]:
        """The PCM the customer hears from a bot media payload, and what is wrong with it."""
        return ulaw_to_pcm(payload), None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Twilio(Protocol):
    name = "twilio"
    title = "Twilio"
    stream_key = "streamSid"
    incoming: Mapping[str, Incoming] = {"media": "media", "mark": "mark", "clear": "clear"}

    def opening(self, parameters: Mapping[str, str]) -> list[dict[str, Any]]:
        ids = self.ids
        start = {
            "accountSid": ids.account_sid,
            "streamSid": ids.stream_sid,
            "callSid": ids.call_sid,
            "tracks": ["inbound"],
            "customParameters": dict(parameters),
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }
        return [
            {"event": "connected", "protocol": "Call", "version": "1.0.0"},
            {"event": "start", "streamSid": ids.stream_sid, "start": start},
        ]

    def media(self, pcm: bytes, *, chunk: int, timestamp_ms: int) -> dict[str, Any]:
        media = {
            "track": "inbound",
            "chunk": str(chunk),
            "timestamp": str(timestamp_ms),
            "payload": _b64(pcm_to_ulaw(pcm)),
        }
        return {"event": "media", "streamSid": self.ids.stream_sid, "media": media}

    def dtmf(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "streamSid": self.ids.stream_sid,
            "dtmf": {"track": "inbound_track", "digit": digit},
        }

    def mark_echo(self, name: str) -> dict[str, Any]:
        return {"event": "mark", "streamSid": self.ids.stream_sid, "mark": {"name": name}}

    def stop(self) -> dict[str, Any] | None:
        ids = self.ids
        return {
            "event": "stop",
            "streamSid": ids.stream_sid,
            "stop": {"accountSid": ids.account_sid, "callSid": ids.call_sid},
        }


class Plivo(Protocol):
    """No `connected` and no `stop`; numbers are numbers; custom data rides in extra_headers."""

    name = "plivo"
    title = "Plivo"
    mark_field = "name"
    stream_key = "streamId"
    incoming: Mapping[str, Incoming] = {
        "playAudio": "media",
        "checkpoint": "mark",
        "clearAudio": "clear",
    }

    def numbered(self, message: dict[str, Any]) -> dict[str, Any]:
        self.sequence += 1
        return {"event": message["event"], "sequenceNumber": self.sequence} | message

    def opening(self, parameters: Mapping[str, str]) -> list[dict[str, Any]]:
        ids = self.ids
        start = {
            "callId": ids.call_sid,
            "streamId": ids.stream_sid,
            "accountId": ids.account_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000},
        }
        headers = ";".join(f"{key}={value}" for key, value in parameters.items())
        return [{"event": "start", "start": start, "extra_headers": headers}]

    def media(self, pcm: bytes, *, chunk: int, timestamp_ms: int) -> dict[str, Any]:
        media = {
            "track": "inbound",
            "timestamp": str(timestamp_ms),
            "chunk": chunk,
            "payload": _b64(pcm_to_ulaw(pcm)),
        }
        return {"event": "media", "streamId": self.ids.stream_sid, "media": media}

    def dtmf(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "streamId": self.ids.stream_sid,
            "dtmf": {"digit": digit, "track": "inbound"},
        }

    def mark_echo(self, name: str) -> dict[str, Any]:
        return {"event": "playedStream", "streamId": self.ids.stream_sid, "name": name}

    def stop(self) -> dict[str, Any] | None:
        return None

    def mark_name(self, message: Mapping[str, Any]) -> object:
        return message.get("name")

    def audio(self, payload: bytes, message: Mapping[str, Any]) -> tuple[bytes, str | None]:
        media = message.get("media", {})
        content = (media.get("contentType"), media.get("sampleRate"))
        problem = None if content == ("audio/x-mulaw", 8000) else f"playAudio as {content}"
        return ulaw_to_pcm(payload), problem


class Exotel(Protocol):
    """snake_case keys, string counters, raw 16-bit PCM; bot chunks of whole 320-byte frames."""

    name = "exotel"
    title = "Exotel"
    stream_key = "stream_sid"
    sequence_key = "sequence_number"
    incoming: Mapping[str, Incoming] = {"media": "media", "mark": "mark", "clear": "clear"}

    def opening(self, parameters: Mapping[str, str]) -> list[dict[str, Any]]:
        ids = self.ids
        start = {
            "stream_sid": ids.stream_sid,
            "call_sid": ids.call_sid,
            "account_sid": ids.account_sid,
            "from": "+15555550123",
            "to": "+15555550100",
            "custom_parameters": dict(parameters),
            "media_format": {"encoding": "audio/x-raw", "sample_rate": "8000", "bit_rate": "16"},
        }
        return [
            {"event": "connected"},
            {"event": "start", "stream_sid": ids.stream_sid, "start": start},
        ]

    def media(self, pcm: bytes, *, chunk: int, timestamp_ms: int) -> dict[str, Any]:
        media = {"chunk": str(chunk), "timestamp": str(timestamp_ms), "payload": _b64(pcm)}
        return {"event": "media", "stream_sid": self.ids.stream_sid, "media": media}

    def dtmf(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "stream_sid": self.ids.stream_sid,
            "dtmf": {"digit": digit, "duration": "100"},
        }

    def mark_echo(self, name: str) -> dict[str, Any]:
        return {"event": "mark", "stream_sid": self.ids.stream_sid, "mark": {"name": name}}

    def stop(self) -> dict[str, Any] | None:
        ids = self.ids
        return {
            "event": "stop",
            "stream_sid": ids.stream_sid,
            "stop": {
                "call_sid": ids.call_sid,
                "account_sid": ids.account_sid,
                "reason": "callended",
            },
        }

    def audio(self, payload: bytes, message: Mapping[str, Any]) -> tuple[bytes, str | None]:
        size = len(payload)
        if size % EXOTEL_CHUNK_BYTES or size < EXOTEL_MIN_CHUNK_BYTES:
            return payload, f"media chunk of {size} bytes: Exotel takes ≥1600 in multiples of 320"
        return payload, None


PROTOCOLS: Final[dict[str, type[Protocol]]] = {
    "twilio": Twilio,
    "plivo": Plivo,
    "exotel": Exotel,
}
