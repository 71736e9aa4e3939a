"""The voicebot applet's dynamic URL: Exotel asks it where to stream a call's audio.

The applet's URL is fixed in the merchant's Exotel flow, so the call is named by the
`CustomField` Breeze set when placing it: `<call id>.<per-call secret>`. The answer is the
call's media websocket with its token in the query (Exotel hands query parameters back in
`start.custom_parameters`); Exotel's voicebot stream is 16-bit PCM at 8 kHz.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from calls.models import Call
from config.ids import parse_id
from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.providers.exotel.signature import exotel_secret_valid
from telephony.providers.shared import callback_call, media_stream_url
from telephony.tokens import media_token_issue
from templates_app.definition.transfer import transfer_plan

logger = logging.getLogger(__name__)


def exotel_stream_url(*, call: Call) -> str:
    token = media_token_issue(call=call)
    return media_stream_url(provider="exotel", call_id=call.pk, token=token)


def _applet_call(request: HttpRequest, *, applet: str) -> Call | HttpResponse:
    """The call an applet's request names by its `CustomField`, or the response refusing it."""
    call_part, _, secret = request.GET.get("CustomField", "").partition(".")
    call_id = parse_id(call_part)
    if call_id is None or not secret or not request.GET.get("CallSid", ""):
        return HttpResponse(status=400)
    if not exotel_secret_valid(call_id=call_id, secret=secret):
        logger.warning("exotel %s request for call %s refused: bad secret", applet, call_id)
        return HttpResponse(status=403)
    call = callback_call(provider="exotel", call_id=call_id)
    return HttpResponse(status=404) if call is None else call


@require_GET
def exotel_stream(request: HttpRequest) -> HttpResponse:
    found = _applet_call(request, applet="stream")
    if not isinstance(found, Call):
        return found
    call, call_sid = found, request.GET["CallSid"]
    # The applet runs once the customer answered.
    call_provider_status_apply(call=call, provider_call_id=call_sid, status=ProviderStatus.ANSWERED)
    call.refresh_from_db(fields=["status", "provider_call_id"])
    if call.status == Call.Status.ENDED or call.provider_call_id != call_sid:
        return HttpResponse(status=404)
    return JsonResponse({"url": exotel_stream_url(call=call)})


@require_GET
def exotel_dial(request: HttpRequest) -> HttpResponse:
    """The Connect applet after the voicebot: the number to transfer to, as plain text."""
    found = _applet_call(request, applet="dial")
    if not isinstance(found, Call):
        return found
    plan = transfer_plan(found.template_version.definition)
    if plan is None or found.end_reason != "transferred":
        # Not a transfer the bot asked for: the flow's Connect applet has nobody to ring.
        return HttpResponse(status=404)
    return HttpResponse(plan.number, content_type="text/plain")
