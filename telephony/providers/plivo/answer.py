"""The XML Plivo fetches for a call's legs.

A bidirectional μ-law stream when the customer answers; a cold transfer's `<Dial>`; a warm
transfer's agent briefing and conference, with hold music for the customer.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from plivo import plivoxml

from calls.models import Call
from calls.recordings.selectors import recording_mode
from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.inbound.answer import inbound_answer
from telephony.providers.callbacks import callback_call_verified
from telephony.providers.plivo.client import plivo_customer_to_conference
from telephony.providers.plivo.recordings import plivo_record_element
from telephony.providers.plivo.signature import plivo_signature_valid
from telephony.providers.shared import callback_url, media_stream_url, xml_response
from telephony.providers.warm import CUSTOMER_LEFT, agent_answered, conference_name
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


def _verified(request: HttpRequest, call_id: int) -> Call | HttpResponse:
    found = callback_call_verified(
        request=request, provider="plivo", call_id=call_id, valid=plivo_signature_valid
    )
    return found if found is not None else xml_response(plivo_xml_hang_up())


@csrf_exempt
@require_POST
def plivo_agent_answer(request: HttpRequest, call_id: int) -> HttpResponse:
    """A warm transfer's agent answered: brief them, then meet the customer in the conference.

    A customer who already left is reported to the agent instead.
    """
    found = _verified(request, call_id)
    if not isinstance(found, Call):
        return found
    response = plivoxml.ResponseElement()
    summary = agent_answered(call=found, move_customer=plivo_customer_to_conference)
    if summary is None:
        response.add(plivoxml.SpeakElement(CUSTOMER_LEFT))
        response.add(plivoxml.HangupElement())
        return xml_response(str(response.to_string(False)))
    response.add(plivoxml.SpeakElement(summary))
    response.add(
        plivoxml.ConferenceElement(
            conference_name(call=found), start_conference_on_enter=True, end_conference_on_exit=True
        )
    )
    return xml_response(str(response.to_string(False)))


@csrf_exempt
@require_POST
def plivo_conference_xml(request: HttpRequest, call_id: int) -> HttpResponse:
    """The customer's leg after the agent answered: wait with hold music until they join.

    The agent starts the conference once briefed; either leaving ends it.
    """
    found = _verified(request, call_id)
    if not isinstance(found, Call):
        return found
    response = plivoxml.ResponseElement()
    response.add(
        plivoxml.ConferenceElement(
            conference_name(call=found),
            start_conference_on_enter=False,
            end_conference_on_exit=True,
            wait_sound=callback_url(provider="plivo", call_id=found.pk, kind="transfer/hold"),
        )
    )
    return xml_response(str(response.to_string(False)))


@csrf_exempt
@require_POST
def plivo_hold_xml(request: HttpRequest, call_id: int) -> HttpResponse:
    """The conference's waitSound: Plivo takes only `<Play>`, `<Speak>` and `<Wait>` here."""
    found = _verified(request, call_id)
    if not isinstance(found, Call):
        return found
    response = plivoxml.ResponseElement()
    # A loop of 0 plays until the agent joins.
    response.add(plivoxml.PlayElement(settings.PLIVO_HOLD_MUSIC_URL, loop=0))
    return xml_response(str(response.to_string(False)))
