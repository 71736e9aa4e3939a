"""Handing a live call to a person, chosen by the call's provider.

Cold: the provider connects the customer to the number in place of the bot (Twilio, Plivo).
Exotel has no call for it: the bot closes the stream and the merchant's Exotel flow runs its
next applet, a Connect applet that asks Breeze for the number (exotel/answer.py).

Warm (Twilio, Plivo): the agent is rung while the bot holds the customer; when the agent answers
they hear a summary and the customer joins them in a conference (the bot leaves); when the
agent does not, the worker is told and the template decides (docs/telephony.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from calls.models import Call
from telephony.providers.exotel.client import exotel_transfer
from telephony.providers.plivo.client import plivo_agent_dial, plivo_transfer
from telephony.providers.twilio.client import twilio_agent_dial, twilio_transfer

logger = logging.getLogger(__name__)


def _simulator_transfer(*, call: Call, number: str) -> bool:
    """The simulated customer has no line to hand on: the transfer is taken as done."""
    logger.info("call %s: simulated transfer to %s", call.pk, number)
    return True


TRANSFERS: dict[str, Callable[..., bool]] = {
    "twilio": twilio_transfer,
    "plivo": plivo_transfer,
    "exotel": exotel_transfer,
    "simulator": _simulator_transfer,
}
AGENT_DIALS: dict[str, Callable[..., bool]] = {
    "twilio": twilio_agent_dial,
    "plivo": plivo_agent_dial,
}


def call_transfer(*, call_id: int, number: str) -> bool:
    """Ask the call's provider to connect the customer to `number`; False if it cannot."""
    call = Call.objects.select_related("template_version").get(pk=call_id)
    transfer = TRANSFERS.get(call.provider)
    return transfer is not None and transfer(call=call, number=number)


def call_agent_dial(*, call_id: int, number: str, ring_timeout: int) -> bool | None:
    """Ring the agent of a warm transfer; None if the call's provider has no warm transfer."""
    call = Call.objects.select_related("template_version").get(pk=call_id)
    dial = AGENT_DIALS.get(call.provider)
    if dial is None:
        return None
    return dial(call=call, number=number, ring_timeout=ring_timeout)
