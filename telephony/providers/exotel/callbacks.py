"""Exotel's status callbacks (JSON, as Breeze asks for them), authenticated by the URL's secret."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.providers.exotel.signature import exotel_secret_valid
from telephony.providers.shared import callback_call

logger = logging.getLogger(__name__)

STATUSES: dict[str, ProviderStatus] = {
    "queued": ProviderStatus.INITIATED,
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
def exotel_status(request: HttpRequest, call_id: int, secret: str) -> HttpResponse:
    if not exotel_secret_valid(call_id=call_id, secret=secret):
        logger.warning("exotel callback for call %s refused: bad secret", call_id)
        return HttpResponse(status=403)
    call = callback_call(provider="exotel", call_id=call_id)
    if call is None:
        return HttpResponse(status=204)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse(status=400)
    if not isinstance(body, dict):
        return HttpResponse(status=400)
    status = STATUSES.get(str(body.get("Status", "")))
    call_sid = body.get("CallSid")
    if status is None or not isinstance(call_sid, str) or not call_sid:
        return HttpResponse(status=400)
    call_provider_status_apply(call=call, provider_call_id=call_sid, status=status)
    return HttpResponse(status=204)
