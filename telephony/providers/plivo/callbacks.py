"""Plivo's ring and hang-up callbacks, mapped onto Breeze's normalised provider statuses."""

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
from telephony.providers.plivo.client import plivo_hang_up
from telephony.providers.plivo.signature import plivo_signature_valid
from telephony.providers.warm import agent_status_view

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
# A warm transfer's agent leg hanging up so means the agent never picked up.
AGENT_UNANSWERED = frozenset({"busy", "no-answer", "timeout", "failed", "cancel"})

plivo_status = status_callback_view(
    provider="plivo", statuses=STATUSES, id_field="CallUUID", valid=plivo_signature_valid
)

# Machine detection's verdict, posted to `machine_detection_url` (`Machine` is "true" for a
# machine); a person answering changes nothing.
plivo_amd = amd_callback_view(
    provider="plivo",
    id_field="CallUUID",
    verdict_field="Machine",
    machine=lambda verdict: verdict == "true",
    valid=plivo_signature_valid,
    hang_up=plivo_hang_up,
)


@csrf_exempt
@require_POST
def plivo_inbound_status(request: HttpRequest) -> HttpResponse:
    """A routed number's application hang-up URL (inbound calls have no per-call URL)."""
    return inbound_status(
        request,
        provider="plivo",
        id_field="CallUUID",
        valid=plivo_signature_valid,
        statuses=STATUSES,
    )


plivo_agent_status = agent_status_view(
    provider="plivo", valid=plivo_signature_valid, statuses=STATUSES, unanswered=AGENT_UNANSWERED
)
