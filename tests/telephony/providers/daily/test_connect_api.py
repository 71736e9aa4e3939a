"""POST /api/v1/daily/connect: a call, a room from the pool and the client's token, or a clear
refusal naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from calls.models import Call
from config.models import Membership
from telephony.providers.daily.models import DailyRoom
from telephony.providers.daily.rooms import daily_room_pool_maintain
from templates_app.services import template_load_demos
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS
from tests.telephony.providers.daily.fake_daily import FakeDaily, client_token

URL = "/api/v1/daily/connect"
PAYLOAD = DEMO_PAYLOADS["order-confirmation"]

pytestmark = pytest.mark.usefixtures("order_template")


def _body(**changes: Any) -> dict[str, Any]:
    return {"template": "order-confirmation", "payload": dict(PAYLOAD), **changes}


def _fields(response: Any) -> list[tuple[str, str]]:
    return [(item["field"], item["code"]) for item in response.json()["error"]["fields"]]


def test_connect_hands_the_client_a_pooled_room_and_its_own_token(
    api: Callable[[str], APIClient],
    daily_api: FakeDaily,
    acme_daily: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    daily_room_pool_maintain()

    with django_capture_on_commit_callbacks() as callbacks:
        response = api(Membership.Role.OPERATOR).post(
            URL, _body(execution_mode="DAILY_TEST", recording=True), format="json"
        )

    assert response.status_code == 201
    body = response.json()
    call = Call.objects.get()
    room = DailyRoom.objects.get(call=call)
    assert body == {
        "room_url": room.url,
        "token": body["token"],
        "call_id": call.pk,
        "expires_at": body["expires_at"],
    }
    assert (room.status, room.origin, room.is_recording) == (
        DailyRoom.Status.ASSIGNED,
        DailyRoom.Origin.POOL,
        True,
    )
    assert (call.provider, call.execution_mode, call.status, call.provider_call_id) == (
        "daily",
        "DAILY_TEST",
        Call.Status.QUEUED,
        room.name,
    )
    assert call.payload == PAYLOAD
    assert daily_api.token_properties(body["token"]) == client_token(room.name, room.expires_at)
    # The bot is sent only once the call is committed.
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("_case", "body", "fields"),
    [
        ("no template", {"payload": PAYLOAD}, [("template", "required")]),
        ("a phone mode", _body(execution_mode="TELEPHONY"), [("execution_mode", "invalid_choice")]),
        ("recording not a flag", _body(recording="maybe"), [("recording", "invalid")]),
        ("payload not an object", _body(payload=[1]), [("payload", "not_a_dict")]),
        ("unknown template", _body(template="no-such-template"), [("template", "invalid")]),
        (
            "NUL in a payload value",
            _body(payload={**PAYLOAD, "customer_name": "A\x00"}),
            [("payload.customer_name", "null_character")],
        ),
        (
            "NUL in a nested list",
            _body(payload={**PAYLOAD, "notes": ["ok", "x\x00"]}),
            [("payload.notes.1", "null_character")],
        ),
        (
            "payload missing a variable",
            _body(payload={k: v for k, v in PAYLOAD.items() if k != "order_id"}),
            [("payload.order_id", "invalid")],
        ),
        ("lead_id not a number", {"lead_id": "abc"}, [("lead_id", "invalid")]),
        ("lead_id not positive", {"lead_id": 0}, [("lead_id", "min_value")]),
        (
            "lead_id with a template",
            {"lead_id": 1, "template": "order-confirmation", "payload": PAYLOAD},
            [("template", "not_with_lead"), ("payload", "not_with_lead")],
        ),
        (
            "lead_id with a mode",
            {"lead_id": 1, "execution_mode": "DAILY"},
            [("execution_mode", "not_with_lead")],
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_makes_nothing(
    api: Callable[[str], APIClient],
    daily_api: FakeDaily,
    acme_daily: None,
    _case: str,
    body: dict[str, Any],
    fields: list[tuple[str, str]],
) -> None:
    response = api(Membership.Role.OPERATOR).post(URL, body, format="json")

    assert response.status_code == 400
    assert _fields(response) == fields
    assert Call.objects.count() == 0
    assert daily_api.requests == []


def test_a_viewer_may_not_start_a_session(
    api: Callable[[str], APIClient], daily_api: FakeDaily, acme_daily: None
) -> None:
    response = api(Membership.Role.VIEWER).post(URL, _body(), format="json")

    assert response.status_code == 403
    assert Call.objects.count() == 0


def test_a_merchant_without_daily_gets_a_conflict(
    api: Callable[[str], APIClient], daily_api: FakeDaily
) -> None:
    response = api(Membership.Role.OPERATOR).post(URL, _body(), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["message"] == "This merchant has no active Daily credential."
    assert Call.objects.count() == 0


@pytest.mark.parametrize(
    ("status", "answer"),
    [(503, 503), (429, 503), (401, 502)],
)
def test_daily_failing_answers_502_or_503_and_returns_the_room_to_the_pool(
    api: Callable[[str], APIClient],
    daily_api: FakeDaily,
    acme_daily: None,
    status: int,
    answer: int,
) -> None:
    daily_room_pool_maintain()
    daily_api.fail(status)

    response = api(Membership.Role.OPERATOR).post(URL, _body(), format="json")

    assert response.status_code == answer
    assert Call.objects.count() == 0
    assert DailyRoom.objects.filter(status=DailyRoom.Status.IDLE).count() == 2


def test_another_merchants_template_is_unknown_and_nothing_is_made(
    api: Callable[[str], APIClient], daily_api: FakeDaily, acme_daily: None, tenants: Tenants
) -> None:
    template_load_demos(merchant=tenants.globex)

    response = api(Membership.Role.OPERATOR).post(
        URL, _body(merchant="globex", template="order-confirmation"), format="json"
    )

    assert response.status_code == 400
    assert _fields(response) == [("template", "invalid")]
    assert Call.objects.count() == 0
    assert daily_api.requests == []


def test_without_credentials_the_answer_is_401(daily_api: FakeDaily, acme_daily: None) -> None:
    response = APIClient().post(URL, _body(), format="json")

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "not_authenticated"
    assert Call.objects.count() == 0
