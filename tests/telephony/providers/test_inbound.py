"""Inbound calls: a signed webhook for a routed number creates the call (no lead) and answers
with the stream document; other numbers are refused and forged requests change nothing."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from calls.models import Call
from config.services import provider_credential_create
from telephony.inbound.models import InboundRoute
from telephony.inbound.services import inbound_route_save
from telephony.tokens import media_token_consume
from templates_app.models import TemplateVersion
from templates_app.services import template_load_demos
from tests.calls.conftest import ORDER_PAYLOAD
from tests.conftest import Tenants
from tests.telephony.providers import test_plivo, test_twilio

NUMBER = "+15555550100"
CALLER = "+15555550142"


@pytest.fixture
def routes(tenants: Tenants, published: TemplateVersion) -> dict[str, InboundRoute]:
    provider_credential_create(
        merchant=tenants.acme, provider="twilio", secrets=test_twilio.SECRETS
    )
    provider_credential_create(merchant=tenants.acme, provider="plivo", secrets=test_plivo.SECRETS)
    return {
        provider: inbound_route_save(
            route=InboundRoute(
                merchant=tenants.acme,
                provider=provider,
                number=NUMBER,
                template=published.template,
                variables=ORDER_PAYLOAD,
            )
        )
        for provider in ("twilio", "plivo")
    }


def _twilio(
    client: Client, params: dict[str, str], *, token: str = test_twilio.TOKEN
) -> tuple[int, bytes]:
    return test_twilio._post_signed(client, "/telephony/twilio/inbound/", params, token=token)


TWILIO_CALL = {
    "CallSid": test_twilio.CALL_SID,
    "From": CALLER,
    "To": NUMBER,
    "Direction": "inbound",
}


def test_a_twilio_call_to_a_routed_number_is_answered_by_its_template(
    routes: dict[str, InboundRoute], published: TemplateVersion, client: Client
) -> None:
    status, body = _twilio(client, TWILIO_CALL)

    assert status == 200
    call = Call.objects.get()
    assert (
        call.provider,
        call.provider_call_id,
        call.customer_phone,
        call.lead_id,
        call.template_version_id,
        call.payload,
        call.status,
        call.execution_mode,
    ) == (
        "twilio",
        test_twilio.CALL_SID,
        CALLER,
        None,
        published.pk,
        ORDER_PAYLOAD,
        Call.Status.RINGING,
        Call.ExecutionMode.TELEPHONY,
    )
    stream = ElementTree.fromstring(body).find("./Connect/Stream")
    assert stream is not None
    assert stream.get("url") == f"wss://breeze.example.com/ws/media/twilio/{call.pk}/"
    parameters = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    media_token_consume(token=str(parameters["token"]), call_id=call.pk)


def test_a_retried_webhook_answers_the_same_call(
    routes: dict[str, InboundRoute], client: Client
) -> None:
    assert _twilio(client, TWILIO_CALL)[0] == 200
    assert _twilio(client, TWILIO_CALL)[0] == 200

    assert Call.objects.count() == 1


REJECT = b'<?xml version="1.0" encoding="UTF-8"?><Response><Reject /></Response>'


def test_unrouted_and_inactive_numbers_are_rejected(
    routes: dict[str, InboundRoute], client: Client
) -> None:
    assert _twilio(client, {**TWILIO_CALL, "To": "+15555550199"}) == (200, REJECT)
    InboundRoute.objects.filter(pk=routes["twilio"].pk).update(is_active=False)
    assert _twilio(client, TWILIO_CALL) == (200, REJECT)

    assert Call.objects.count() == 0


@pytest.mark.parametrize(
    ("params", "token", "status"),
    [(TWILIO_CALL, "forged", 403), ({**TWILIO_CALL, "CallSid": ""}, test_twilio.TOKEN, 400)],
)
def test_forged_and_malformed_webhooks_create_nothing(
    routes: dict[str, InboundRoute], client: Client, params: dict[str, str], token: str, status: int
) -> None:
    assert _twilio(client, params, token=token)[0] == status

    assert Call.objects.count() == 0


def test_a_plivo_call_names_numbers_without_the_plus(
    routes: dict[str, InboundRoute], client: Client
) -> None:
    params = {"CallUUID": test_plivo.CALL_UUID, "From": CALLER[1:], "To": NUMBER[1:]}

    status, body = test_plivo._post_signed(client, "/telephony/plivo/inbound/", params)

    assert status == 200
    call = Call.objects.get()
    assert (call.provider, call.provider_call_id, call.customer_phone, call.lead_id) == (
        "plivo",
        test_plivo.CALL_UUID,
        CALLER,
        None,
    )
    url = str(ElementTree.fromstring(body).findtext("./Stream"))
    assert url.startswith(f"wss://breeze.example.com/ws/media/plivo/{call.pk}/?token=")


def test_a_route_needs_its_merchants_template_and_the_templates_variables(
    tenants: Tenants, published: TemplateVersion
) -> None:
    template_load_demos(merchant=tenants.globex)
    foreign = tenants.globex.templates.get(slug="order-confirmation")
    route = InboundRoute(merchant=tenants.acme, provider="twilio", number=NUMBER, template=foreign)

    with pytest.raises(ValidationError) as foreign_template:
        inbound_route_save(route=route)
    route.template = published.template
    with pytest.raises(ValidationError) as missing_variables:
        inbound_route_save(route=route)

    assert foreign_template.value.message_dict == {
        "template": ["The template belongs to another merchant."]
    }
    assert list(missing_variables.value.message_dict) == ["variables"]
    assert InboundRoute.objects.count() == 0


def test_a_caller_hanging_up_before_the_stream_ends_the_call_through_the_numbers_status_url(
    routes: dict[str, InboundRoute], client: Client
) -> None:
    assert _twilio(client, TWILIO_CALL)[0] == 200
    path = "/telephony/twilio/inbound/status/"
    completed = {**TWILIO_CALL, "CallStatus": "completed"}

    assert test_twilio._post_signed(client, path, completed, token="forged")[0] == 403
    assert Call.objects.get().status == Call.Status.RINGING
    assert (
        test_twilio._post_signed(client, path, {**completed, "CallSid": "CA" + "5" * 32})[0] == 204
    )
    assert test_twilio._post_signed(client, path, completed)[0] == 204

    call = Call.objects.get()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.EARLY_HANGUP,
        "provider_completed",
    )


def test_plivos_hang_up_url_ends_an_inbound_call(
    routes: dict[str, InboundRoute], client: Client
) -> None:
    params = {"CallUUID": test_plivo.CALL_UUID, "From": CALLER[1:], "To": NUMBER[1:]}
    assert test_plivo._post_signed(client, "/telephony/plivo/inbound/", params)[0] == 200

    hung_up = {**params, "CallStatus": "completed"}
    assert test_plivo._post_signed(client, "/telephony/plivo/inbound/status/", hung_up)[0] == 204

    call = Call.objects.get()
    assert (call.status, call.end_reason) == (Call.Status.ENDED, "provider_completed")
