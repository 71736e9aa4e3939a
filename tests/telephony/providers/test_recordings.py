"""Provider recordings: requested on placement, announced by signed callbacks, downloaded into
storage from local servers that answer like Twilio's and Plivo's APIs.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest
from django.conf import LazySettings
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks
from pytest_httpserver import HTTPServer

from breeze.settings.integrations.recordings import recordings_storage
from calls.models import Call
from calls.recordings.models import Recording
from calls.services import call_create
from config.services import provider_credential_create
from telephony.providers.plivo.answer import plivo_xml_stream
from telephony.recordings.tasks import recording_download_sweep_task, recording_download_task
from telephony.services import call_place
from templates_app.models import TemplateVersion
from templates_app.services import template_create, template_version_publish
from tests.calls.conftest import ORDER_PAYLOAD
from tests.calls.recordings.conftest import wav_bytes
from tests.conftest import Tenants
from tests.telephony.providers import test_plivo as plivo
from tests.telephony.providers import test_twilio as twilio
from tests.telephony.providers.conftest import CUSTOMER, PUBLIC

pytestmark = pytest.mark.django_db

RECORDING_SID = "RE" + "3" * 32
TWILIO_MEDIA = f"/2010-04-01/Accounts/{twilio.SID}/Recordings/{RECORDING_SID}.wav"
PLIVO_RECORDING_ID = "c2186400-1d9c-11e7-9a7e-02420a000001"
PLIVO_META = f"/v1/Account/{plivo.AUTH_ID}/Recording/{PLIVO_RECORDING_ID}/"
PLIVO_MEDIA = f"/media/{PLIVO_RECORDING_ID}.wav"
WAV = wav_bytes(seconds=2.0)


@pytest.fixture(autouse=True)
def recordings_root(settings: LazySettings, tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": recordings_storage(bucket="", root=str(root)),
    }
    # Retries at once, so an eager task runs its whole schedule inside one test.
    settings.BREEZE_RECORDING_DOWNLOAD_RETRY_SECONDS = 0
    settings.BREEZE_RECORDING_DOWNLOAD_ATTEMPTS = 3
    return root


@pytest.fixture
def api(httpserver: HTTPServer, settings: LazySettings) -> HTTPServer:
    settings.TWILIO_API_BASE_URL = httpserver.url_for("/")
    settings.PLIVO_API_BASE_URL = httpserver.url_for("/").rstrip("/")
    return httpserver


def _recording_call(tenants: Tenants, published: TemplateVersion, provider: str) -> Call:
    definition = copy.deepcopy(published.definition)
    definition.setdefault("execution", {})["recording"] = "provider"
    template = template_create(
        merchant=tenants.acme, slug="recorded", name="Recorded", definition=definition
    )
    secrets = twilio.SECRETS if provider == "twilio" else plivo.SECRETS
    provider_credential_create(merchant=tenants.acme, provider=provider, secrets=secrets)
    call = call_create(
        version=template_version_publish(version=template.versions.get()),
        execution_mode=Call.ExecutionMode.TELEPHONY,
        provider=provider,
        customer_phone=CUSTOMER,
        payload=ORDER_PAYLOAD,
    )
    Call.objects.filter(pk=call.pk).update(
        provider_call_id=twilio.CALL_SID if provider == "twilio" else plivo.CALL_UUID
    )
    call.refresh_from_db()
    return call


@pytest.fixture
def twilio_call(tenants: Tenants, published: TemplateVersion) -> Call:
    return _recording_call(tenants, published, "twilio")


@pytest.fixture
def plivo_call(tenants: Tenants, published: TemplateVersion) -> Call:
    return _recording_call(tenants, published, "plivo")


def _twilio_callback(call: Call, **overrides: str) -> dict[str, str]:
    return {
        "AccountSid": twilio.SID,
        "CallSid": twilio.CALL_SID,
        "RecordingSid": RECORDING_SID,
        "RecordingUrl": f"https://api.twilio.com{TWILIO_MEDIA[:-4]}",
        "RecordingStatus": "completed",
        "RecordingDuration": "2",
        "RecordingChannels": "1",
        "RecordingSource": "OutboundAPI",
        **overrides,
    }


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def test_placing_a_recorded_twilio_call_asks_for_the_recording_and_its_callback(
    twilio_call: Call, api: HTTPServer
) -> None:
    Call.objects.filter(pk=twilio_call.pk).update(provider_call_id="")
    api.expect_oneshot_request(twilio.CALLS_PATH, method="POST").respond_with_json(
        twilio._created(), status=201
    )

    call_place(call_id=twilio_call.pk)

    form = parse_qs(api.log[0][0].get_data(as_text=True))
    assert {key: form[key] for key in form if key.startswith("Record")} == {
        "Record": ["true"],
        "RecordingChannels": ["mono"],
        "RecordingStatusCallback": [f"{PUBLIC}/telephony/twilio/{twilio_call.pk}/recording/"],
        "RecordingStatusCallbackMethod": ["POST"],
        "RecordingStatusCallbackEvent": ["completed"],
    }


def test_twilios_recording_callback_downloads_the_wav_into_storage(
    twilio_call: Call,
    api: HTTPServer,
    client: Client,
    recordings_root: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    api.expect_oneshot_request(TWILIO_MEDIA, method="GET").respond_with_data(
        WAV, content_type="audio/x-wav"
    )
    path = f"/telephony/twilio/{twilio_call.pk}/recording/"

    with django_capture_on_commit_callbacks(execute=True):
        status, _ = twilio._post_signed(client, path, _twilio_callback(twilio_call))

    assert status == 204
    request, _ = api.log[0]
    assert request.headers["Authorization"] == _basic(twilio.SID, twilio.TOKEN)
    recording = Recording.objects.get(call=twilio_call)
    assert (recording.status, recording.source, recording.provider_recording_id) == (
        Recording.Status.STORED,
        Recording.Source.TWILIO,
        RECORDING_SID,
    )
    assert (recording.content_type, recording.duration_seconds, recording.download_attempts) == (
        "audio/wav",
        2.0,
        1,
    )
    assert (recordings_root / recording.storage_name).read_bytes() == WAV


def test_a_repeated_twilio_callback_downloads_nothing_more(
    twilio_call: Call,
    api: HTTPServer,
    client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    api.expect_oneshot_request(TWILIO_MEDIA, method="GET").respond_with_data(WAV)
    path = f"/telephony/twilio/{twilio_call.pk}/recording/"
    with django_capture_on_commit_callbacks(execute=True):
        twilio._post_signed(client, path, _twilio_callback(twilio_call))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        status, _ = twilio._post_signed(client, path, _twilio_callback(twilio_call))

    assert (status, len(callbacks), len(api.log)) == (204, 0, 1)
    assert Recording.objects.filter(call=twilio_call).count() == 1


@pytest.mark.parametrize(
    ("params", "signed_with", "expected"),
    [
        ({}, "forged-token", 403),
        ({"RecordingStatus": "absent"}, twilio.TOKEN, 204),
        ({"CallSid": "CA" + "9" * 32}, twilio.TOKEN, 204),
        ({"RecordingSid": ""}, twilio.TOKEN, 400),
    ],
    ids=["forged-signature", "nothing-recorded", "another-call", "no-recording-id"],
)
def test_twilio_callbacks_that_must_not_record_anything(
    twilio_call: Call,
    client: Client,
    params: dict[str, str],
    signed_with: str,
    expected: int,
) -> None:
    path = f"/telephony/twilio/{twilio_call.pk}/recording/"

    status, _ = twilio._post_signed(
        client, path, _twilio_callback(twilio_call, **params), token=signed_with
    )

    assert status == expected
    assert not Recording.objects.filter(call=twilio_call).exists()


def test_a_404_from_the_vendor_is_retried_until_the_file_is_there(
    twilio_call: Call,
    api: HTTPServer,
    client: Client,
    recordings_root: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    api.expect_ordered_request(TWILIO_MEDIA).respond_with_data("Not found", status=404)
    api.expect_ordered_request(TWILIO_MEDIA).respond_with_data(WAV)
    path = f"/telephony/twilio/{twilio_call.pk}/recording/"

    with django_capture_on_commit_callbacks(execute=True):
        twilio._post_signed(client, path, _twilio_callback(twilio_call))

    recording = Recording.objects.get(call=twilio_call)
    assert (recording.status, recording.download_attempts, recording.last_error) == (
        Recording.Status.STORED,
        2,
        "",
    )
    assert (recordings_root / recording.storage_name).read_bytes() == WAV


def test_a_recording_the_vendor_never_serves_ends_failed_with_the_last_error(
    twilio_call: Call,
    api: HTTPServer,
    client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    api.expect_request(TWILIO_MEDIA).respond_with_data("Not found", status=404)
    path = f"/telephony/twilio/{twilio_call.pk}/recording/"

    with django_capture_on_commit_callbacks(execute=True):
        twilio._post_signed(client, path, _twilio_callback(twilio_call))

    recording = Recording.objects.get(call=twilio_call)
    url = api.url_for(TWILIO_MEDIA)
    assert (recording.status, recording.download_attempts, recording.last_error) == (
        Recording.Status.FAILED,
        3,
        f"GET {url} answered 404",
    )
    assert len(api.log) == 3
    recording_download_task.delay(recording.pk)  # a late redelivery changes nothing
    assert len(api.log) == 3


def test_refused_credentials_fail_at_once(
    twilio_call: Call,
    api: HTTPServer,
    client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    api.expect_request(TWILIO_MEDIA).respond_with_data("Unauthorized", status=401)

    with django_capture_on_commit_callbacks(execute=True):
        twilio._post_signed(
            client, f"/telephony/twilio/{twilio_call.pk}/recording/", _twilio_callback(twilio_call)
        )

    recording = Recording.objects.get(call=twilio_call)
    assert (recording.status, recording.download_attempts) == (Recording.Status.FAILED, 1)


def test_the_sweeper_downloads_a_recording_whose_task_was_lost(
    twilio_call: Call,
    api: HTTPServer,
    client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    api.expect_oneshot_request(TWILIO_MEDIA).respond_with_data(WAV)
    # The callback commits, but its task never runs (lost with Redis).
    with django_capture_on_commit_callbacks(execute=False):
        twilio._post_signed(
            client, f"/telephony/twilio/{twilio_call.pk}/recording/", _twilio_callback(twilio_call)
        )
    recording = Recording.objects.get(call=twilio_call)
    recording_download_sweep_task.delay()
    assert Recording.objects.get(pk=recording.pk).status == Recording.Status.PENDING  # not yet due

    Recording.objects.filter(pk=recording.pk).update(
        next_attempt_at=recording.created_at.replace(year=2020)
    )
    recording_download_sweep_task.delay()

    assert Recording.objects.get(pk=recording.pk).status == Recording.Status.STORED


def test_plivos_answer_records_the_session_before_the_stream(plivo_call: Call) -> None:
    root = ElementTree.fromstring(plivo_xml_stream(call=plivo_call))

    assert [child.tag for child in root] == ["Record", "Stream"]
    assert root[0].attrib == {
        "callbackMethod": "POST",
        "callbackUrl": f"{PUBLIC}/telephony/plivo/{plivo_call.pk}/recording/",
        "fileFormat": "wav",
        "maxLength": "3600",
        "recordSession": "true",
        "redirect": "false",
    }


def test_plivos_record_callback_downloads_the_file_the_api_points_to(
    plivo_call: Call,
    api: HTTPServer,
    client: Client,
    recordings_root: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    api.expect_oneshot_request(PLIVO_META, method="GET").respond_with_json(
        {
            "api_id": "a2",
            "recording_id": PLIVO_RECORDING_ID,
            "recording_format": "wav",
            "recording_url": api.url_for(PLIVO_MEDIA),
        }
    )
    api.expect_oneshot_request(PLIVO_MEDIA, method="GET").respond_with_data(WAV)
    params = {
        "CallUUID": plivo.CALL_UUID,
        "RecordingID": PLIVO_RECORDING_ID,
        "RecordUrl": f"https://media.plivo.com{PLIVO_MEDIA}",
        "RecordingDuration": "2",
        "RecordingDurationMs": "2000",
    }

    with django_capture_on_commit_callbacks(execute=True):
        status, _ = plivo._post_signed(
            client, f"/telephony/plivo/{plivo_call.pk}/recording/", params
        )

    assert status == 204
    assert [request.headers["Authorization"] for request, _ in api.log] == [
        _basic(plivo.AUTH_ID, plivo.TOKEN)
    ] * 2
    recording = Recording.objects.get(call=plivo_call)
    assert (recording.status, recording.source) == (Recording.Status.STORED, Recording.Source.PLIVO)
    assert (recordings_root / recording.storage_name).read_bytes() == WAV


def test_a_forged_plivo_record_callback_is_refused(plivo_call: Call, client: Client) -> None:
    params = {"CallUUID": plivo.CALL_UUID, "RecordingID": PLIVO_RECORDING_ID}

    status, _ = plivo._post_signed(
        client, f"/telephony/plivo/{plivo_call.pk}/recording/", params, token="forged"
    )

    assert status == 403
    assert not Recording.objects.exists()


def test_a_call_without_recording_asks_for_none(
    provider_call: Callable[[str, dict[str, str] | None], Call],
) -> None:
    call = provider_call("plivo", plivo.SECRETS)

    root = ElementTree.fromstring(plivo_xml_stream(call=call))

    assert [child.tag for child in root] == ["Stream"]
