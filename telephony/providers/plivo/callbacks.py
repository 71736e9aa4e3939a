"""Plivo's ring and hang-up callbacks, mapped onto Breeze's normalised provider statuses."""

from __future__ import annotations

from telephony.events import ProviderStatus
from telephony.providers.callbacks import status_callback_view
from telephony.providers.plivo.signature import plivo_signature_valid

STATUSES: dict[str, ProviderStatus] = {
    "ringing": ProviderStatus.RINGING,
    "in-progress": ProviderStatus.ANSWERED,
    "completed": ProviderStatus.COMPLETED,
    "busy": ProviderStatus.BUSY,
    "no-answer": ProviderStatus.NO_ANSWER,
    # Plivo's word for a ring that ran out (ring_timeout).
    "timeout": ProviderStatus.NO_ANSWER,
    "failed": ProviderStatus.FAILED,
    "cancel": ProviderStatus.CANCELED,
}

plivo_status = status_callback_view(
    provider="plivo", statuses=STATUSES, id_field="CallUUID", valid=plivo_signature_valid
)
