"""A customer calls a routed Twilio number and talks to the route's template, end to end.

The test plays Twilio: the signed inbound webhook, the customer's stream in Twilio's protocol
with the TwiML's parameters, and the REST API the worker hangs up through.
"""

from __future__ import annotations

import asyncio
from xml.etree import ElementTree

import pytest
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call
from config.services import provider_credential_create
from telephony.inbound.models import InboundRoute
from telephony.inbound.services import inbound_route_save
from telephony.providers.simulator.client import run_persona
from telephony.providers.simulator.persona import Persona, Step
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, ended_call, published_template
from tests.e2e.test_keypad import KEYPAD_DEFINITION
from tests.e2e.test_transfers import (
    CUSTOMER_LEG,
    _forms,
    twilio_api,  # noqa: F401 - the fixture
)
from tests.processes import wait_for
from tests.telephony.providers import test_twilio

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

NUMBER = "+15555550100"
CALLER = "+15555550142"


def test_a_call_to_a_routed_number_is_answered_by_its_template(
    twilio_api: HTTPServer,  # noqa: F811 - the fixture
    stack: Stack,
    tenants: Tenants,
) -> None:
    twilio_api.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "completed"}
    )
    version = published_template(tenants.acme, "inbound-keypad", KEYPAD_DEFINITION)
    provider_credential_create(
        merchant=tenants.acme, provider="twilio", secrets=test_twilio.SECRETS
    )
    inbound_route_save(
        route=InboundRoute(
            merchant=tenants.acme, provider="twilio", number=NUMBER, template=version.template
        )
    )

    status, body = test_twilio._post_signed(
        Client(),
        "/telephony/twilio/inbound/",
        {"CallSid": test_twilio.CALL_SID, "From": CALLER, "To": NUMBER, "Direction": "inbound"},
    )
    call = Call.objects.get()
    parameters = ElementTree.fromstring(body).findall("./Connect/Stream/Parameter")
    result = asyncio.run(
        run_persona(
            stack.base_url.replace("http", "ws", 1) + f"/ws/media/twilio/{call.pk}/",
            Persona(name="confirms", description="Presses 1.", steps=(Step(dtmf="1"),)),
            call_sid=test_twilio.CALL_SID,
            stream_sid=f"MZ{call.pk:032d}",
            custom_parameters={str(p.get("name")): str(p.get("value")) for p in parameters},
        )
    )
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")

    assert (status, result.errors, result.hung_up_by) == (200, [], "bot")
    assert (ended.lead_id, ended.customer_phone, ended.template_version_id) == (
        None,
        CALLER,
        version.pk,
    )
    assert (ended.outcome, ended.disposition, ended.end_reason) == (
        "confirmed",
        Call.Disposition.ANSWERED,
        "bot_ended",
    )
    assert [path for path, _ in _forms(twilio_api)] == [CUSTOMER_LEG]
