"""A call's session over a relay with no provider on the other end, for pipeline tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from calls.selectors import CallContext
from calls.voice.pipeline import CallSession, build_call_session
from templates_app.pipecat_compat import TwilioFrameSerializer


@dataclass
class RelaySession:
    session: CallSession
    inbound: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    sent: list[str | bytes] = field(default_factory=list)


def relay_session(context: CallContext) -> RelaySession:
    """The call's session framed as Twilio's; what it sends is kept, nothing arrives."""
    inbound: asyncio.Queue[str | None] = asyncio.Queue()
    sent: list[str | bytes] = []

    async def send(payload: str | bytes) -> None:
        sent.append(payload)

    session = build_call_session(
        context,
        serializer=TwilioFrameSerializer(
            "MZ1", params=TwilioFrameSerializer.InputParams(auto_hang_up=False)
        ),
        inbound=inbound,
        send=send,
    )
    return RelaySession(session, inbound, sent)
