"""Twilio's status callbacks, mapped onto Breeze's normalised provider statuses."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.providers.shared import callback_call, provider_secrets, signature_refused
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


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, call_id: int) -> HttpResponse:
    call = callback_call(provider="twilio", call_id=call_id)
    if call is None:
        return HttpResponse(status=204)
    secrets = provider_secrets(call=call)
    if secrets is None or not twilio_signature_valid(
        request=request, auth_token=secrets["auth_token"]
    ):
        signature_refused(call=call, why="bad or missing X-Twilio-Signature")
        return HttpResponse(status=403)
    status = STATUSES.get(request.POST.get("CallStatus", ""))
    call_sid = request.POST.get("CallSid", "")
    if status is None or not call_sid:
        return HttpResponse(status=400)
    if status is ProviderStatus.COMPLETED and request.POST.get("AnsweredBy") in MACHINE_ANSWERS:
        status = ProviderStatus.VOICEMAIL
    call_provider_status_apply(call=call, provider_call_id=call_sid, status=status)
    return HttpResponse(status=204)
