"""Place a call with the simulator provider: the scripted customer dials into Breeze itself.

This is the provider's "REST API": instead of asking Twilio to call a phone, it connects a
persona to the call's media endpoint exactly as Twilio would, with the media token in the
`start` message's custom parameters. A call whose provider is `plivo` or `exotel` is played
in that provider's dialect instead, on that provider's media endpoint, which is how the
tests run those protocols end to end without the providers.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from calls.models import Call
from telephony.providers.simulator.client import SimulatorResult, run_persona
from telephony.providers.simulator.persona import Persona
from telephony.providers.simulator.protocols import PROTOCOLS


def media_url(*, base_url: str, provider: str, call_id: int) -> str:
    """The websocket URL of a call's media stream under Breeze's public base URL."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, f"/ws/media/{provider}/{call_id}/", "", ""))


async def simulator_dial(
    *, call: Call, token: str, persona: Persona, base_url: str, speed: float = 1.0
) -> SimulatorResult:
    protocol = call.provider if call.provider in PROTOCOLS else "twilio"
    return await run_persona(
        media_url(base_url=base_url, provider=call.provider, call_id=call.pk),
        persona,
        call_sid=f"CA{call.pk:032d}",
        stream_sid=f"MZ{call.pk:032d}",
        custom_parameters={"call_id": str(call.pk), "token": token},
        speed=speed,
        protocol=protocol,
    )
