"""Twilio's REST API through the official SDK: place a call, hang up, read its status."""

from __future__ import annotations

from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, VoiceResponse

from calls.models import Call
from calls.recordings.selectors import recording_mode
from telephony.events import call_provider_id_record
from telephony.providers.shared import (
    ProviderUnavailableError,
    callback_url,
    caller_number,
    placement_refuse,
    placement_secrets,
    provider_secrets,
)
from telephony.providers.twilio.recordings import twilio_recording_options
from telephony.providers.warm import conference_name
from templates_app.definition.transfer import voicemail_plan

# Twilio error codes that no retry of the same lead can fix.
_INVALID_NUMBER = frozenset({21211, 21214, 21217, 21401, 21407})
_NOT_ALLOWED = frozenset({21215, 21216, 21610})
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


def twilio_client(*, secrets: dict[str, str]) -> Client:
    client = Client(
        secrets["account_sid"],
        secrets["auth_token"],
        http_client=TwilioHttpClient(timeout=settings.TELEPHONY_HTTP_TIMEOUT),
    )
    if settings.TWILIO_API_BASE_URL:
        client.api.base_url = settings.TWILIO_API_BASE_URL
    return client


def _raise_if_transient(error: TwilioRestException) -> None:
    if error.status == 429 or error.status >= 500:
        raise ProviderUnavailableError(f"Twilio answered {error.status}: {error.msg}") from error


def twilio_place(call: Call) -> None:
    """Ask Twilio to dial the call; its answer URL then connects the media stream."""
    secrets = placement_secrets(call=call)
    if secrets is None:
        return
    options: dict[str, object] = {}
    voicemail = voicemail_plan(call.template_version.definition)
    if voicemail is not None:
        # Asynchronous AMD: the conversation starts at once and the verdict comes to its own
        # callback; leaving a message waits for the greeting's beep.
        options["machine_detection"] = (
            "DetectMessageEnd" if voicemail.action == "message" else "Enable"
        )
        options["async_amd"] = "true"
        options["async_amd_status_callback"] = callback_url(
            provider="twilio", call_id=call.pk, kind="amd"
        )
        options["async_amd_status_callback_method"] = "POST"
    elif secrets.get("machine_detection"):
        # Synchronous AMD: Twilio asks the answer URL once it knows who answered.
        options["machine_detection"] = secrets["machine_detection"]
    if recording_mode(definition=call.template_version.definition, provider="twilio") == "provider":
        options.update(twilio_recording_options(call=call))
    try:
        created = twilio_client(secrets=secrets).calls.create(
            to=call.customer_phone,
            from_=caller_number(call=call, secrets=secrets),
            url=callback_url(provider="twilio", call_id=call.pk, kind="answer"),
            method="POST",
            status_callback=callback_url(provider="twilio", call_id=call.pk, kind="status"),
            status_callback_method="POST",
            status_callback_event=STATUS_EVENTS,
            **options,
        )
    except TwilioRestException as error:
        _raise_if_transient(error)
        if error.code in _INVALID_NUMBER:
            reason = "invalid_number"
        elif error.code in _NOT_ALLOWED:
            reason = "number_not_allowed"
        else:
            reason = "provider_rejected"
        placement_refuse(call=call, end_reason=reason, detail=f"{error.code}: {error.msg}")
        return
    call_provider_id_record(call_id=call.pk, provider_call_id=str(created.sid))


def twilio_hang_up(*, call: Call) -> bool:
    """End the call at Twilio; False if Twilio no longer has it live."""
    secrets = provider_secrets(call=call)
    if secrets is None or not call.provider_call_id:
        return False
    try:
        twilio_client(secrets=secrets).calls(call.provider_call_id).update(status="completed")
    except TwilioRestException as error:
        _raise_if_transient(error)
        return False
    return True


def twilio_fetch_status(*, call: Call) -> str | None:
    """Twilio's own word for the call's state (queued, ringing, in-progress, completed, …)."""
    secrets = provider_secrets(call=call)
    if secrets is None or not call.provider_call_id:
        return None
    try:
        fetched = twilio_client(secrets=secrets).calls(call.provider_call_id).fetch()
    except TwilioRestException as error:
        _raise_if_transient(error)
        return None
    return str(fetched.status)


def twilio_transfer(*, call: Call, number: str) -> bool:
    """Cold transfer: replace the call's TwiML with a `<Dial>`; the media stream then stops.

    False if Twilio no longer has the call live.
    """
    dial = VoiceResponse()
    dial.dial(number)
    return _twiml_replace(call=call, twiml=str(dial))


def _twiml_replace(*, call: Call, twiml: str) -> bool:
    """Run `twiml` on the customer's live leg; False if Twilio no longer has it live."""
    secrets = provider_secrets(call=call)
    if secrets is None or not call.provider_call_id:
        return False
    try:
        twilio_client(secrets=secrets).calls(call.provider_call_id).update(twiml=twiml)
    except TwilioRestException as error:
        _raise_if_transient(error)
        return False
    return True


def twilio_agent_dial(*, call: Call, number: str, ring_timeout: int) -> bool:
    """Warm transfer, first step: ring the agent while the bot holds the customer.

    When the agent answers, Twilio asks the agent-answer URL, which briefs the agent and
    moves the customer into the conference; if not, the agent leg's status callback reports
    it. False if Twilio refused the dial.
    """
    secrets = provider_secrets(call=call)
    if secrets is None:
        return False
    try:
        twilio_client(secrets=secrets).calls.create(
            to=number,
            from_=caller_number(call=call, secrets=secrets),
            url=callback_url(provider="twilio", call_id=call.pk, kind="transfer/agent"),
            method="POST",
            status_callback=callback_url(
                provider="twilio", call_id=call.pk, kind="transfer/status"
            ),
            status_callback_method="POST",
            status_callback_event=["completed"],
            timeout=ring_timeout,
        )
    except TwilioRestException as error:
        _raise_if_transient(error)
        return False
    return True


def twilio_customer_to_conference(*, call: Call) -> bool:
    """Warm transfer, last step: the customer's leg joins the agent's conference.

    Replacing the leg's TwiML ends its media stream, so the bot leaves. Hold music plays
    until the agent (who starts the conference) has heard the summary and joins; whoever
    leaves last ends it. False if Twilio no longer has the customer's call live.
    """
    response = VoiceResponse()
    dial = Dial()
    dial.conference(
        conference_name(call=call),
        start_conference_on_enter=False,
        end_conference_on_exit=True,
        wait_url=settings.TWILIO_HOLD_MUSIC_URL,
    )
    response.append(dial)
    return _twiml_replace(call=call, twiml=str(response))
