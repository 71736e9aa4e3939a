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

from django.utils.module_loading import import_string

from calls.models import Call

logger = logging.getLogger(__name__)

# Dotted paths, imported on first use: a call worker runs these from its pipeline, and the
# providers' SDKs (11 MB of twilio and plivo) would otherwise sit in every worker's memory
# for the rare call that transfers.
TRANSFERS = {
    "twilio": "telephony.providers.twilio.client.twilio_transfer",
    "plivo": "telephony.providers.plivo.client.plivo_transfer",
    "exotel": "telephony.providers.exotel.client.exotel_transfer",
    "simulator": "telephony.transfers.simulator_transfer",
}
AGENT_DIALS = {
    "twilio": "telephony.providers.twilio.client.twilio_agent_dial",
    "plivo": "telephony.providers.plivo.client.plivo_agent_dial",
}


def simulator_transfer(*, call: Call, number: str) -> bool:
    """The simulated customer has no line to hand on: the transfer is taken as done."""
    logger.info("call %s: simulated transfer to %s", call.pk, number)
    return True


def call_transfer(*, call_id: int, number: str) -> bool:
    """Ask the call's provider to connect the customer to `number`; False if it cannot."""
    call = Call.objects.select_related("template_version").get(pk=call_id)
    path = TRANSFERS.get(call.provider)
    if path is None:
        return False
    transfer: Callable[..., bool] = import_string(path)
    return transfer(call=call, number=number)


def call_agent_dial(*, call_id: int, number: str, ring_timeout: int) -> bool | None:
    """Ring the agent of a warm transfer; None if the call's provider has no warm transfer."""
    call = Call.objects.select_related("template_version").get(pk=call_id)
    path = AGENT_DIALS.get(call.provider)
    if path is None:
        return None
    dial: Callable[..., bool] = import_string(path)
    return dial(call=call, number=number, ring_timeout=ring_timeout)
