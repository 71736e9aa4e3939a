"""The XML Plivo fetches when the customer answers: a bidirectional μ-law stream to the call."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from plivo import plivoxml

from calls.models import Call
from calls.recordings.selectors import recording_mode
from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.inbound.answer import inbound_answer
from telephony.providers.callbacks import callback_call_verified
from telephony.providers.plivo.recordings import plivo_record_element
from telephony.providers.plivo.signature import plivo_signature_valid
from telephony.providers.shared import media_stream_url, xml_response
from telephony.tokens import media_token_issue

# The longest a stream may last (seconds); the template's own limits end calls sooner.
STREAM_TIMEOUT = 3600


def plivo_xml_stream(*, call: Call) -> str:
    """The token rides in the stream URL's query: Plivo's extraHeaders allow only alphanumerics.

    `keepCallAlive` makes the stream the only element that runs, and the μ-law content type is
    what Pipecat's Plivo serializer reads and writes.
    """
    url = media_stream_url(provider="plivo", call_id=call.pk, token=media_token_issue(call=call))
    response = plivoxml.ResponseElement()
    if recording_mode(definition=call.template_version.definition, provider="plivo") == "provider":
        response.add(plivo_record_element(call=call))
    response.add(
        plivoxml.StreamElement(
            url,
            bidirectional=True,
            audioTrack="inbound",
            streamTimeout=STREAM_TIMEOUT,
            keepCallAlive=True,
            contentType="audio/x-mulaw;rate=8000",
        )
    )
    return str(response.to_string(False))


def plivo_xml_hang_up() -> str:
    response = plivoxml.ResponseElement()
    response.add(plivoxml.HangupElement())
    return str(response.to_string(False))


@csrf_exempt
@require_POST
def plivo_answer(request: HttpRequest, call_id: int) -> HttpResponse:
    found = callback_call_verified(
        request=request, provider="plivo", call_id=call_id, valid=plivo_signature_valid
    )
    if not isinstance(found, Call):
        return found or xml_response(plivo_xml_hang_up())
    call = found
    call_uuid = request.POST.get("CallUUID", "")
    if not call_uuid:
        return HttpResponse(status=400)
    call_provider_status_apply(
        call=call, provider_call_id=call_uuid, status=ProviderStatus.ANSWERED
    )
    call.refresh_from_db(fields=["status", "provider_call_id"])
    if call.status == Call.Status.ENDED or call.provider_call_id != call_uuid:
        return xml_response(plivo_xml_hang_up())
    return xml_response(plivo_xml_stream(call=call))


@csrf_exempt
@require_POST
def plivo_transfer_xml(request: HttpRequest, call_id: int) -> HttpResponse:
    """The XML a transferred call's leg runs: dial the number Breeze put in the signed URL."""
    found = callback_call_verified(
        request=request, provider="plivo", call_id=call_id, valid=plivo_signature_valid
    )
    if not isinstance(found, Call):
        return found or xml_response(plivo_xml_hang_up())
    number = request.GET.get("to", "")
    if not number:
        return HttpResponse(status=400)
    dial = plivoxml.DialElement()
    dial.add(plivoxml.NumberElement(number))
    response = plivoxml.ResponseElement()
    response.add(dial)
    return xml_response(str(response.to_string(False)))


@csrf_exempt
@require_POST
def plivo_inbound(request: HttpRequest) -> HttpResponse:
    """A routed Plivo number's application answer URL: the template answers over a stream."""
    return inbound_answer(
        request,
        provider="plivo",
        id_field="CallUUID",
        valid=plivo_signature_valid,
        stream=plivo_xml_stream,
        refuse=plivo_xml_hang_up,
    )
