"""The Daily room pool: kept warm by the beat task, assigned once, retired when used or expired."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
from django.conf import LazySettings
from django.db import connection, transaction
from django.utils import timezone

from calls.models import Call
from calls.services import call_create, call_end
from config.services import provider_credential_create
from telephony.metrics import daily_room_metrics
from telephony.providers.daily.client import DailyUnavailableError
from telephony.providers.daily.models import DailyRoom
from telephony.providers.daily.rooms import daily_room_assign, daily_room_pool_maintain
from telephony.providers.daily.tasks import daily_room_pool_maintain_task
from templates_app.models import TemplateVersion
from tests.calls.conftest import ORDER_PAYLOAD
from tests.conftest import Tenants
from tests.telephony.providers.daily.fake_daily import API_KEY, DOMAIN, FakeDaily

Status = DailyRoom.Status


def _web_call(version: TemplateVersion) -> Call:
    return call_create(
        version=version,
        execution_mode=Call.ExecutionMode.DAILY,
        provider="daily",
        payload=ORDER_PAYLOAD,
    )


def _close_to(moment: dt.datetime, expected: dt.datetime) -> bool:
    return abs((moment - expected).total_seconds()) < 5


def test_the_beat_task_fills_each_merchants_pool_to_its_size_once(
    daily_api: FakeDaily, acme_daily: None, tenants: Tenants, settings: LazySettings
) -> None:
    settings.DAILY_ROOM_IDLE_SECONDS = 7200

    daily_room_pool_maintain_task.delay()
    second = daily_room_pool_maintain()

    rooms = DailyRoom.objects.order_by("pk")
    assert [(room.merchant_id, room.status, room.origin) for room in rooms] == [
        (tenants.acme.pk, Status.IDLE, DailyRoom.Origin.POOL)
    ] * 2
    assert sorted(daily_api.rooms) == sorted(room.name for room in rooms)
    assert [room.url for room in rooms] == [f"{DOMAIN}/{room.name}" for room in rooms]
    assert all(_close_to(room.expires_at, timezone.now() + dt.timedelta(hours=2)) for room in rooms)
    assert (second.created, second.deleted, second.errors) == (0, 0, 0)


def test_without_a_size_in_the_credential_the_setting_decides(
    daily_api: FakeDaily, tenants: Tenants, settings: LazySettings
) -> None:
    settings.DAILY_ROOM_POOL_SIZE = 3
    provider_credential_create(
        merchant=tenants.acme, provider="daily", secrets={"api_key": API_KEY}
    )

    report = daily_room_pool_maintain()

    assert report.created == 3
    assert DailyRoom.objects.filter(status=Status.IDLE).count() == 3


def test_a_daily_outage_leaves_the_pool_short_until_the_next_run(
    daily_api: FakeDaily, acme_daily: None
) -> None:
    daily_api.fail(503)

    report = daily_room_pool_maintain()

    assert (report.created, report.errors) == (0, 1)
    assert DailyRoom.objects.count() == 0
    assert daily_room_pool_maintain().created == 2


def test_assignment_takes_an_idle_room_and_gives_it_one_sessions_expiry(
    daily_api: FakeDaily, acme_daily: None, published: TemplateVersion, settings: LazySettings
) -> None:
    settings.DAILY_SESSION_SECONDS = 900
    daily_room_pool_maintain()
    call = _web_call(published)

    with transaction.atomic():
        room = daily_room_assign(call=call, api_key=API_KEY, is_recording=True)

    room.refresh_from_db()
    assert (room.status, room.call_id, room.is_recording, room.origin) == (
        Status.ASSIGNED,
        call.pk,
        True,
        DailyRoom.Origin.POOL,
    )
    assert _close_to(room.expires_at, timezone.now() + dt.timedelta(seconds=900))
    assert daily_api.requests[-1] == (
        "POST",
        f"/rooms/{room.name}",
        {"properties": {"exp": int(room.expires_at.timestamp())}},
    )
    assert DailyRoom.objects.filter(status=Status.IDLE).count() == 1


def test_an_empty_pool_makes_a_room_while_the_client_waits_logged_and_counted(
    daily_api: FakeDaily,
    acme_daily: None,
    published: TemplateVersion,
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = _web_call(published)

    with caplog.at_level(logging.WARNING), transaction.atomic():
        room = daily_room_assign(call=call, api_key=API_KEY, is_recording=False)

    assert (room.status, room.origin, room.call_id) == (
        Status.ASSIGNED,
        DailyRoom.Origin.ON_DEMAND,
        call.pk,
    )
    assert list(daily_api.rooms) == [room.name]
    assert f"Daily room pool of merchant {call.merchant_id} empty" in caplog.text
    [metric] = daily_room_metrics()
    samples = {(s.labels["status"], s.labels["origin"]): s.value for s in metric.samples}
    assert samples[("assigned", "on_demand")] == 1
    assert samples[("idle", "pool")] == 0
    assert len(samples) == 6


def test_a_failed_refresh_returns_the_room_to_the_pool(
    daily_api: FakeDaily, acme_daily: None, published: TemplateVersion
) -> None:
    daily_room_pool_maintain()
    call = _web_call(published)
    daily_api.fail(429)

    with pytest.raises(DailyUnavailableError), transaction.atomic():
        daily_room_assign(call=call, api_key=API_KEY, is_recording=False)

    assert DailyRoom.objects.filter(status=Status.IDLE).count() == 2
    assert not DailyRoom.objects.filter(call=call).exists()


@pytest.mark.django_db(transaction=True)
def test_two_clients_never_get_the_same_room(
    daily_api: FakeDaily, acme_daily: None, published: TemplateVersion
) -> None:
    daily_room_pool_maintain()
    first_call, second_call = _web_call(published), _web_call(published)
    first_holds_lock = threading.Event()
    second_done = threading.Event()
    taken: dict[str, str] = {}

    def first_client() -> None:
        try:
            with transaction.atomic():
                room = daily_room_assign(call=first_call, api_key=API_KEY, is_recording=False)
                taken["first"] = room.name
                first_holds_lock.set()
                # Keep the row locked while the second client assigns.
                second_done.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_client)
    thread.start()
    assert first_holds_lock.wait(10)
    with transaction.atomic():
        taken["second"] = daily_room_assign(
            call=second_call, api_key=API_KEY, is_recording=False
        ).name
    second_done.set()
    thread.join(10)

    assert taken["first"] != taken["second"]
    assert DailyRoom.objects.filter(origin=DailyRoom.Origin.ON_DEMAND).count() == 0
    assert set(
        DailyRoom.objects.filter(status=Status.ASSIGNED).values_list("call_id", flat=True)
    ) == {
        first_call.pk,
        second_call.pk,
    }


def test_the_sweep_deletes_expired_rooms_and_rooms_of_ended_calls(
    daily_api: FakeDaily, acme_daily: None, published: TemplateVersion
) -> None:
    daily_room_pool_maintain()
    idle, used = DailyRoom.objects.order_by("pk")
    DailyRoom.objects.filter(pk=idle.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    call = _web_call(published)
    with transaction.atomic():
        room = daily_room_assign(call=call, api_key=API_KEY, is_recording=False)
    assert room.pk == used.pk
    call_end(call_id=call.pk, disposition=Call.Disposition.ANSWERED, end_reason="bot_ended")

    report = daily_room_pool_maintain()

    assert report.deleted == 2
    assert set(DailyRoom.objects.filter(status=Status.EXPIRED).values_list("pk", flat=True)) == {
        idle.pk,
        used.pk,
    }
    assert idle.name not in daily_api.rooms
    assert used.name not in daily_api.rooms
    # Refilled to size with fresh rooms.
    assert report.created == 2
    assert DailyRoom.objects.filter(status=Status.IDLE).count() == 2


def test_a_room_daily_cannot_delete_now_is_retried_on_the_next_run(
    daily_api: FakeDaily, acme_daily: None
) -> None:
    daily_room_pool_maintain()
    DailyRoom.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    daily_api.fail(500, times=2)

    report = daily_room_pool_maintain()

    assert (report.deleted, report.errors) == (0, 2)
    assert DailyRoom.objects.filter(status=Status.EXPIRED).count() == 0
    assert daily_room_pool_maintain().deleted == 2
    assert DailyRoom.objects.filter(status=Status.EXPIRED).count() == 2
