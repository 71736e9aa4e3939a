"""Handing a live call to a person: each provider's cold transfer, chosen by the call's provider.

Exotel has none to call: the bot closes the stream and the merchant's Exotel flow runs its
next applet (connect to an agent), so there the transfer is the stream ending.
"""

from __future__ import annotations

from collections.abc import Callable

from calls.models import Call
from telephony.providers.plivo.client import plivo_transfer
from telephony.providers.twilio.client import twilio_transfer

TRANSFERS: dict[str, Callable[..., bool]] = {"twilio": twilio_transfer, "plivo": plivo_transfer}


def call_transfer(*, call_id: int, number: str) -> bool:
    """Ask the call's provider to connect the customer to `number`; False if it cannot."""
    call = Call.objects.get(pk=call_id)
    transfer = TRANSFERS.get(call.provider)
    return transfer is not None and transfer(call=call, number=number)
