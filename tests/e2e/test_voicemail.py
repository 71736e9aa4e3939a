"""An answering machine on a real Twilio call: the worker leaves the template's message.

Twilio's asynchronous detection reports the machine after the bot has greeted it; the worker
says the message (variables filled) and hangs up through Twilio's API.
"""

from __future__ import annotations

from copy import deepcopy

import pytest
from pytest_httpserver import HTTPServer

from calls.models import Call, Turn
from telephony.providers.simulator.persona import Persona, Step
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, ended_call
from tests.e2e.test_keypad import KEYPAD_DEFINITION
from tests.e2e.test_transfers import (
    CUSTOMER_LEG,
    _bot_said,
    _call_on_twilio,
    _converse,
    _forms,
    twilio_api,  # noqa: F401 - the fixture
    twilio_posts_when,
)
from tests.processes import wait_for
from tests.telephony.providers import test_twilio

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

MESSAGE = "This is Breeze for {customer_phone}. We will call again later."


def test_the_bot_leaves_the_message_on_a_machine_and_hangs_up(
    twilio_api: HTTPServer,  # noqa: F811 - the fixture
    stack: Stack,
    tenants: Tenants,
) -> None:
    twilio_api.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "completed"}
    )
    definition = deepcopy(KEYPAD_DEFINITION)
    definition["voicemail"] = {"action": "message", "message": MESSAGE}
    call = _call_on_twilio(tenants, "voicemail-message", definition)
    machine = Persona(
        name="machine", description="Listens and records.", steps=(Step(silence_ms=20000),)
    )
    # Detection takes a few seconds (DetectMessageEnd waits for the beep): the verdict comes
    # once the bot has spoken to the machine.
    reporter = twilio_posts_when(
        lambda: Turn.objects.filter(call_id=call.pk, speaker=Turn.Speaker.BOT).exists(),
        f"/telephony/twilio/{call.pk}/amd/",
        {"CallSid": test_twilio.CALL_SID, "AnsweredBy": "machine_end_beep"},
    )

    result = _converse(stack, call, machine)
    reporter.join(timeout=30)
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")

    assert result.errors == []
    assert result.hung_up_by == "bot"
    assert _bot_said(ended)[-1] == "This is Breeze for +15555550123. We will call again later."
    assert (ended.disposition, ended.end_reason) == (
        Call.Disposition.VOICEMAIL,
        "provider_voicemail",
    )
    forms = _forms(twilio_api)
    assert [path for path, _ in forms] == [test_twilio.CALLS_PATH, CUSTOMER_LEG]
    assert forms[1][1] == {"Status": ["completed"]}
