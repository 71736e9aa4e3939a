"""Caller number selection and the URLs every adapter hands its provider."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import LazySettings

from calls.models import Call
from telephony.providers.shared import callback_url, caller_number, media_stream_url

MakeCall = Callable[[str, dict[str, str] | None], Call]
NUMBERS = ["+15555550101", "+15555550102", "+15555550103"]


def _with_numbers(call: Call, **execution: object) -> Call:
    definition = call.template_version.definition
    definition["execution"] = {**definition.get("execution", {}), **execution}
    return call


def test_the_credential_number_is_the_fallback(provider_call: MakeCall) -> None:
    call = provider_call("simulator", None)

    assert caller_number(call=call, secrets={"caller_number": "+15555550199"}) == "+15555550199"
    assert caller_number(call=call, secrets={}) == ""


def test_template_numbers_win_and_are_selected_as_configured(provider_call: MakeCall) -> None:
    call = provider_call("simulator", None)

    first = caller_number(
        call=_with_numbers(call, caller_numbers=NUMBERS, number_selection="first"), secrets={}
    )
    robin = caller_number(
        call=_with_numbers(call, caller_numbers=NUMBERS, number_selection="round_robin"),
        secrets={"caller_number": "+15555550199"},
    )
    randomly = caller_number(
        call=_with_numbers(call, caller_numbers=NUMBERS, number_selection="random"), secrets={}
    )

    assert (first, robin) == (NUMBERS[0], NUMBERS[call.pk % 3])
    assert randomly in NUMBERS


def test_urls_follow_the_public_base_url(settings: LazySettings) -> None:
    settings.PUBLIC_BASE_URL = "https://voice.example.com/"

    assert callback_url(provider="plivo", call_id=7, kind="status") == (
        "https://voice.example.com/telephony/plivo/7/status/"
    )
    assert media_stream_url(provider="exotel", call_id=7, token="a:b") == (
        "wss://voice.example.com/ws/media/exotel/7/?token=a%3Ab"
    )
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert (
        media_stream_url(provider="twilio", call_id=7) == "ws://127.0.0.1:8000/ws/media/twilio/7/"
    )
