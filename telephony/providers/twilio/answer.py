"""The TwiML Twilio fetches when the customer answers: connect the call's media stream."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.voice_response import Connect, Dial, Stream, VoiceResponse

from calls.models import Call
from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.inbound.answer import inbound_answer
from telephony.providers.callbacks import callback_call_verified
from telephony.providers.shared import media_stream_url, xml_response
from telephony.providers.twilio.client import twilio_customer_to_conference
from telephony.providers.twilio.signature import twilio_signature_valid
from telephony.providers.warm import CUSTOMER_LEFT, agent_answered, conference_name
from telephony.tokens import media_token_issue

# What Twilio's answering-machine detection says when no person picked up.
MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)


def twiml_stream(*, call: Call) -> str:
    """`<Connect><Stream>` to the call's media URL, the media token in a `<Parameter>`.

    Twilio drops query strings from stream URLs and hands parameters back in `start`.
    """
    stream = Stream(url=media_stream_url(provider="twilio", call_id=call.pk))
    stream.parameter(name="call_id", value=str(call.pk))
    stream.parameter(name="token", value=media_token_issue(call=call))
    connect = Connect()
    connect.append(stream)
    response = VoiceResponse()
    response.append(connect)
    return str(response)


def twiml_hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


@csrf_exempt
@require_POST
def twilio_answer(request: HttpRequest, call_id: int) -> HttpResponse:
    found = callback_call_verified(
        request=request, provider="twilio", call_id=call_id, valid=twilio_signature_valid
    )
    if not isinstance(found, Call):
        return found or xml_response(twiml_hang_up())
    call = found
    call_sid = request.POST.get("CallSid", "")
    if not call_sid:
        return HttpResponse(status=400)
    if request.POST.get("AnsweredBy", "") in MACHINE_ANSWERS:
        call_provider_status_apply(
            call=call, provider_call_id=call_sid, status=ProviderStatus.VOICEMAIL
        )
        return xml_response(twiml_hang_up())
    if call.status == Call.Status.ENDED:
        return xml_response(twiml_hang_up())
    return xml_response(twiml_stream(call=call))


@csrf_exempt
@require_POST
def twilio_agent_answer(request: HttpRequest, call_id: int) -> HttpResponse:
    """A warm transfer's agent answered: brief them, then meet the customer in the conference.

    A customer who already left is reported to the agent instead.
    """
    found = callback_call_verified(
        request=request, provider="twilio", call_id=call_id, valid=twilio_signature_valid
    )
    if not isinstance(found, Call):
        return found or xml_response(twiml_hang_up())
    response = VoiceResponse()
    summary = agent_answered(call=found, move_customer=twilio_customer_to_conference)
    if summary is None:
        response.say(CUSTOMER_LEFT)
        response.hangup()
        return xml_response(str(response))
    response.say(summary)
    dial = Dial()
    dial.conference(
        conference_name(call=found), start_conference_on_enter=True, end_conference_on_exit=True
    )
    response.append(dial)
    return xml_response(str(response))


def twiml_reject() -> str:
    response = VoiceResponse()
    response.reject()
    return str(response)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """A routed Twilio number's Voice URL: the route's template answers over a stream."""
    return inbound_answer(
        request,
        provider="twilio",
        id_field="CallSid",
        valid=twilio_signature_valid,
        stream=twiml_stream,
        refuse=twiml_reject,
    )
