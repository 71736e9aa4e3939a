"""call.completed links the recording; operators play it in the admin; retention deletes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.models import Call
from calls.recordings.models import Recording, RecordingRetention
from calls.recordings.services import recording_retention_set, recordings_delete_expired
from calls.recordings.tasks import recordings_expire_task
from calls.services import call_end, call_mark_in_progress
from calls.webhooks.events import EventType, event_validation_errors
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from config.models import Membership
from tests.calls.recordings.conftest import store_wav, wav_bytes
from tests.conftest import Tenants

pytestmark = pytest.mark.django_db
Role = Membership.Role


def test_call_completed_carries_a_working_link_to_a_recording_stored_before_the_end(
    tenants: Tenants, call: Call
) -> None:
    webhook_endpoint_create(merchant_id=tenants.acme.pk, url="https://hooks.example.com/breeze")
    call_mark_in_progress(call_id=call.pk, worker_id="w1")
    store_wav(call, seconds=1.0)

    call_end(call_id=call.pk, disposition=Call.Disposition.ANSWERED, end_reason="bot_ended")

    event = WebhookDelivery.objects.get(event_type=EventType.CALL_COMPLETED).payload
    assert event_validation_errors(event) == []
    url = event["data"]["recording_url"]
    served = Client().get(url.removeprefix("http://127.0.0.1:9"))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == wav_bytes(seconds=1.0)  # type: ignore[attr-defined]


def test_call_completed_without_a_recording_has_no_link(tenants: Tenants, call: Call) -> None:
    webhook_endpoint_create(merchant_id=tenants.acme.pk, url="https://hooks.example.com/breeze")

    call_end(call_id=call.pk, disposition=Call.Disposition.NO_ANSWER, end_reason="provider")

    event = WebhookDelivery.objects.get(event_type=EventType.CALL_COMPLETED).payload
    assert event["data"]["recording_url"] is None


def test_an_operator_plays_their_merchants_recording_from_the_call_page(
    call: Call, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    recording = store_wav(call, seconds=1.0)
    client = login(member_of_acme(Role.OPERATOR))
    file_url = reverse("admin:calls_recording_file", args=[recording.pk])

    page = client.get(reverse("admin:calls_call_change", args=[call.pk]))
    served = client.get(file_url)

    assert f'<audio controls preload="none" src="{file_url}">' in page.content.decode()
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == wav_bytes(seconds=1.0)  # type: ignore[attr-defined]


def test_another_merchants_operator_cannot_fetch_the_file(
    call: Call,
    tenants: Tenants,
    make_member: Callable[..., User],
    login: Callable[[User], Client],
) -> None:
    recording = store_wav(call)
    client = login(make_member(Role.OPERATOR, tenants.globex))

    response = client.get(reverse("admin:calls_recording_file", args=[recording.pk]))

    assert response.status_code == 404


def test_the_file_needs_an_admin_login(call: Call) -> None:
    recording = store_wav(call)

    response = Client().get(reverse("admin:calls_recording_file", args=[recording.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_retention_deletes_expired_files_and_rows_and_a_rerun_does_nothing(
    call: Call, recordings_root: Path
) -> None:
    recording = store_wav(call)
    path = recordings_root / recording.storage_name
    assert path.exists()

    assert recordings_delete_expired(now=recording.expires_at - timedelta(seconds=1)) == 0
    assert path.exists()

    recordings_expire_task.delay()  # not yet due: nothing happens
    assert Recording.objects.count() == 1

    assert recordings_delete_expired(now=recording.expires_at) == 1
    assert not path.exists()
    assert Recording.objects.count() == 0
    assert recordings_delete_expired(now=recording.expires_at) == 0


def test_a_row_whose_file_is_already_gone_is_still_deleted(
    call: Call, recordings_root: Path
) -> None:
    recording = store_wav(call)
    (recordings_root / recording.storage_name).unlink()

    assert recordings_delete_expired(now=recording.expires_at + timedelta(days=1)) == 1
    assert Recording.objects.count() == 0


def test_a_shorter_merchant_retention_moves_existing_recordings_expiry(call: Call) -> None:
    recording = store_wav(call)

    recording_retention_set(merchant_id=call.merchant_id, days=1)

    recording.refresh_from_db()
    assert recording.expires_at == recording.created_at + timedelta(days=1)
    assert RecordingRetention.objects.get(merchant_id=call.merchant_id).days == 1
    assert recordings_delete_expired(now=timezone.now() + timedelta(days=1, seconds=1)) == 1


def test_a_merchant_admin_sets_retention_in_the_admin(
    call: Call, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    recording = store_wav(call)
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    response = client.post(
        reverse("admin:calls_recordingretention_add"),
        {"merchant": call.merchant_id, "days": 30},
    )

    assert response.status_code == 302
    recording.refresh_from_db()
    assert recording.expires_at == recording.created_at + timedelta(days=30)
