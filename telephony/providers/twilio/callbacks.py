"""Twilio's status callbacks, mapped onto Breeze's normalised provider statuses."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telephony.events import ProviderStatus
from telephony.inbound.answer import inbound_status
from telephony.providers.callbacks import (
    amd_callback_view,
    status_callback_view,
)
from telephony.providers.twilio.answer import MACHINE_ANSWERS
from telephony.providers.twilio.client import twilio_hang_up
from telephony.providers.twilio.signature import twilio_signature_valid
from telephony.providers.warm import agent_status_view

# A warm transfer's agent leg ending so means the agent never picked up.
AGENT_UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
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


twilio_agent_status = agent_status_view(
    provider="twilio", valid=twilio_signature_valid, statuses=STATUSES, unanswered=AGENT_UNANSWERED
)


# Asynchronous answering-machine detection's verdict; a person answering changes nothing.
twilio_amd = amd_callback_view(
    provider="twilio",
    id_field="CallSid",
    verdict_field="AnsweredBy",
    machine=MACHINE_ANSWERS.__contains__,
    valid=twilio_signature_valid,
    hang_up=twilio_hang_up,
)


@csrf_exempt
@require_POST
def twilio_inbound_status(request: HttpRequest) -> HttpResponse:
    """A routed number's "call status changes" URL (inbound calls have no per-call URL)."""
    return inbound_status(
        request,
        provider="twilio",
        id_field="CallSid",
        valid=twilio_signature_valid,
        statuses=STATUSES,
    )
