"""Twilio's status callbacks, mapped onto Breeze's normalised provider statuses."""

from __future__ import annotations

from django.http import HttpRequest

from telephony.events import ProviderStatus
from telephony.providers.callbacks import status_callback_view
from telephony.providers.twilio.answer import MACHINE_ANSWERS
from telephony.providers.twilio.signature import twilio_signature_valid

STATUSES: dict[str, ProviderStatus] = {
    "queued": ProviderStatus.INITIATED,
    "initiated": ProviderStatus.INITIATED,
    "ringing": ProviderStatus.RINGING,
    "in-progress": ProviderStatus.ANSWERED,
    "answered": ProviderStatus.ANSWERED,
    "completed": ProviderStatus.COMPLETED,
    "busy": ProviderStatus.BUSY,
    "no-answer": ProviderStatus.NO_ANSWER,
    "failed": ProviderStatus.FAILED,
    "canceled": ProviderStatus.CANCELED,
}


def _machine_answered(request: HttpRequest, status: ProviderStatus) -> ProviderStatus:
    """A call an answering machine took ends as voicemail (asynchronous detection reports so)."""
    machine = request.POST.get("AnsweredBy", "") in MACHINE_ANSWERS
    return ProviderStatus.VOICEMAIL if machine and status is ProviderStatus.COMPLETED else status


twilio_status = status_callback_view(
    provider="twilio",
    statuses=STATUSES,
    id_field="CallSid",
    valid=twilio_signature_valid,
    refine=_machine_answered,
)
