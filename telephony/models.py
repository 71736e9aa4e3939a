"""Telephony's models live with their provider; imported here so Django registers them."""

from telephony.inbound.models import InboundRoute
from telephony.providers.daily.models import DailyRoom

__all__ = ["DailyRoom", "InboundRoute"]
