"""A lead pushed through the API is dialled, held and recorded through each real adapter.

The template picks the provider (`execution.telephony_providers`) and who records
(`execution.recording`). The test plays the provider as `test_real_adapters` does: its local
API takes the placement the dispatcher makes, the signed answer step hands over the stream,
the simulated customer speaks that provider's stream dialect to the real stack, and the final
`completed` callback arrives after the worker has ended the call. With `provider` recording,
Twilio's signed recording callback follows and the file is downloaded from its local API.
"""

from __future__ import annotations

import json
import wave
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient
from werkzeug import Request

from calls.models import Call
from calls.recordings.models import Recording
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from config.models import Membership
from leads.models import Lead
from templates_app.demo import demo_definition_dialling
from tests.calls.recordings.conftest import wav_bytes
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, ended_call, push_order_lead
from tests.e2e.test_real_adapters import _api, _completed, _converse
from tests.e2e.test_recording import recording_stack, recordings_root  # noqa: F401 - fixtures
from tests.processes import wait_for
from tests.telephony.providers import test_twilio
from tests.telephony.providers.accounts import PROVIDER_IDS, SECRETS
from tests.telephony.providers.conftest import PUBLIC
from tests.telephony.providers.test_recordings import RECORDING_SID, TWILIO_MEDIA, _twilio_callback

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

PHONE = "+919812345678"
# Not the credential's caller number: the call must come from the template's own list.
TEMPLATE_CALLER = "+919800000042"
HOOK_PATH = "/hooks/breeze"


def _placement(provider: str, request: Request) -> tuple[str, str]:
    """(customer, caller) numbers of the placement request, in the provider's own fields."""
    if provider == "plivo":
        body = json.loads(request.get_data(as_text=True))
        return body["to"], body["from"]
    form = parse_qs(request.get_data(as_text=True))
    if provider == "twilio":
        return form["To"][0], form["From"][0]
    # Exotel's connect API rings `From` first, then joins the applet as `CallerId`.
    return form["From"][0], form["CallerId"][0]


Placed = Callable[[str, str], tuple[Call, Request]]


@pytest.fixture
def operator_api(member_of_acme: Callable[[str], User]) -> APIClient:
    api = APIClient()
    api.force_authenticate(user=member_of_acme(Membership.Role.OPERATOR))
    return api


@pytest.fixture
def push_and_place(
    tenants: Tenants, operator_api: APIClient, httpserver: HTTPServer, settings: LazySettings
) -> Placed:
    """Push a lead for a template dialling through `provider` with `recording`, dispatch it, and
    check that the provider's local API got one placement for the lead's phone from the
    template's number.
    """
    settings.PUBLIC_BASE_URL = PUBLIC
    webhook_endpoint_create(merchant_id=tenants.acme.pk, url=httpserver.url_for(HOOK_PATH))
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("", status=204)

    def place(provider: str, recording: str) -> tuple[Call, Request]:
        _api(provider, httpserver, settings)
        lead = push_order_lead(
            operator_api,
            tenants.acme,
            provider=provider,
            secrets=SECRETS[provider],
            phone=PHONE,
            definition=demo_definition_dialling(
                "order-confirmation", provider=provider, caller=TEMPLATE_CALLER, recording=recording
            ),
        )
        call = Call.objects.get(lead=lead)
        assert (call.provider, call.status, lead.status) == (
            provider,
            Call.Status.DIALING,
            "dialing",
        )
        placements = [request for request, _ in httpserver.log if request.path != HOOK_PATH]
        assert len(placements) == 1
        assert _placement(provider, placements[0]) == (PHONE, TEMPLATE_CALLER)
        return call, placements[0]

    return place


def _held(provider: str, stack: Stack, client: Client, call: Call) -> Call:
    """Answer and hold the conversation as the provider; then its final callback. The call as
    the worker ended it, checked against what the customer and the flow did.
    """
    result = _converse(provider, stack, client, call)
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")
    assert _completed(provider, client, call) == 204

    assert result.errors == []
    assert [turn.text for turn in result.customer_turns] == ["yes please"]
    ended.refresh_from_db()
    assert (ended.disposition, ended.end_reason, ended.outcome, ended.node_path) == (
        Call.Disposition.ANSWERED,
        "bot_ended",
        "confirmed",
        ["confirm_order", "order_confirmed"],
    )
    assert ended.provider_call_id == PROVIDER_IDS[provider]
    lead = Lead.objects.get(pk=call.lead_id)
    assert (lead.status, lead.attempts, lead.last_disposition, lead.outcome) == (
        "completed",
        1,
        "answered",
        "confirmed",
    )
    return ended


def _completed_event(call: Call, provider: str) -> WebhookDelivery:
    completed = WebhookDelivery.objects.get(event_type="call.completed")
    data = completed.payload["data"]
    assert (data["call_id"], data["lead_id"], data["provider"]) == (
        call.pk,
        call.lead_id,
        provider,
    )
    assert (data["disposition"], data["outcome"], data["node_path"]) == (
        "answered",
        "confirmed",
        ["confirm_order", "order_confirmed"],
    )
    return completed


@pytest.mark.parametrize("provider", ["twilio", "plivo", "exotel"])
def test_a_pushed_lead_is_dialled_held_and_recorded_through_the_provider(
    provider: str,
    push_and_place: Placed,
    recording_stack: Stack,  # noqa: F811 - the fixture imported above
    recordings_root: Path,  # noqa: F811
    httpserver: HTTPServer,
) -> None:
    call, _ = push_and_place(provider, "worker")

    client = Client()
    ended = _held(provider, recording_stack, client, call)

    recording = Recording.objects.get(call=ended)
    assert (recording.status, recording.source) == (
        Recording.Status.STORED,
        Recording.Source.WORKER,
    )
    with wave.open(str(recordings_root / recording.storage_name), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        seconds = wav.getnframes() / 8000
    assert recording.duration_seconds == round(seconds, 3)
    assert ended.duration_seconds is not None
    assert abs(seconds - ended.duration_seconds) < 2.0

    completed = _completed_event(ended, provider)
    data = completed.payload["data"]
    # The link is signed in the worker (whose public base URL is the test default); its path
    # serves the very file the worker stored.
    link = urlsplit(data["recording_url"])
    assert link.path.startswith("/recordings/")
    served = client.get(link.path)
    assert served.status_code == 200
    assert served.getvalue() == (recordings_root / recording.storage_name).read_bytes()
    delivered = wait_for(
        lambda: WebhookDelivery.objects.filter(
            pk=completed.pk, status=WebhookDelivery.Status.SUCCEEDED
        ).first(),
        timeout=10,
        what="call.completed to be delivered",
    )
    received = [
        json.loads(request.get_data(as_text=True))
        for request, _ in httpserver.log
        if request.path == HOOK_PATH
    ]
    assert [
        event["data"]["recording_url"] for event in received if event["id"] == delivered.event_id
    ] == [data["recording_url"]]


def test_a_pushed_lead_recorded_by_twilio_gets_the_downloaded_recording(
    push_and_place: Placed,
    recording_stack: Stack,  # noqa: F811
    recordings_root: Path,  # noqa: F811
    httpserver: HTTPServer,
    operator_api: APIClient,
) -> None:
    call, placement = push_and_place("twilio", "provider")
    form = parse_qs(placement.get_data(as_text=True))
    assert (form["Record"], form["RecordingStatusCallback"]) == (
        ["true"],
        [f"{PUBLIC}/telephony/twilio/{call.pk}/recording/"],
    )

    client = Client()
    ended = _held("twilio", recording_stack, client, call)

    # Twilio records, so the worker does not, and call.completed goes out before the file.
    assert not Recording.objects.filter(call=ended).exists()
    assert _completed_event(ended, "twilio").payload["data"]["recording_url"] is None
    assert ended.duration_seconds is not None
    seconds = round(ended.duration_seconds)
    wav = wav_bytes(seconds=seconds)
    httpserver.expect_oneshot_request(TWILIO_MEDIA, method="GET").respond_with_data(
        wav, content_type="audio/x-wav"
    )
    announced = _twilio_callback(ended, RecordingDuration=str(seconds))
    path = f"/telephony/twilio/{call.pk}/recording/"
    assert test_twilio._post_signed(client, path, announced)[0] == 204

    recording = Recording.objects.get(call=ended)
    assert (recording.status, recording.source, recording.provider_recording_id) == (
        Recording.Status.STORED,
        Recording.Source.TWILIO,
        RECORDING_SID,
    )
    assert recording.duration_seconds == float(seconds)
    assert (recordings_root / recording.storage_name).read_bytes() == wav
    reference = operator_api.get(f"/api/v1/calls/{call.pk}/recording")
    assert reference.status_code == 200, reference.content
    assert (reference.json()["content_type"], reference.json()["size_bytes"]) == (
        "audio/wav",
        len(wav),
    )
    served = client.get(urlsplit(reference.json()["url"]).path)
    assert (served.status_code, served.getvalue()) == (200, wav)
