"""Sending a bot to a session's room: the bot's token, a warm worker that accepts, at most once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from celery.exceptions import Retry
from django.conf import LazySettings
from django.db import transaction
from django.utils import timezone
from websockets.asyncio.server import ServerConnection, serve

from calls.models import Call
from calls.services import call_create
from calls.voice import pool
from config.models import ProviderCredential
from telephony.providers.daily import dispatch
from telephony.providers.daily.dispatch import daily_bot_dispatch
from telephony.providers.daily.models import DailyRoom
from telephony.providers.daily.rooms import daily_room_assign
from telephony.providers.daily.tasks import (
    DISPATCH_RETRIES,
    daily_bot_dispatch_task,
    daily_room_pool_maintain_task,
)
from templates_app.models import TemplateVersion
from tests.calls.conftest import ORDER_PAYLOAD
from tests.telephony.providers.daily.fake_daily import API_KEY, FakeDaily


class FakeWorker:
    """A warm worker on loopback that records its assignment and accepts it, as workers do."""

    def __init__(self) -> None:
        self.assignments: list[dict[str, Any]] = []
        self.address = ""
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _handle(self, connection: ServerConnection) -> None:
        assignment = json.loads(await connection.recv())
        self.assignments.append(assignment)
        await connection.send(
            json.dumps({"type": "breeze.accepted", "call_id": assignment["call_id"]})
        )

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with serve(self._handle, "127.0.0.1", 0) as server:
            self.address = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            client = pool.async_client()
            await pool.worker_heartbeat(
                client, worker_id="w-fake", address=self.address, pid=1, call_id=None
            )
            await client.aclose()
            self._ready.set()
            await self._stop

    def __enter__(self) -> FakeWorker:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)


@pytest.fixture(autouse=True)
def empty_pool() -> Iterator[None]:
    client = pool.sync_client()
    for key in client.scan_iter(f"{pool.PREFIX}*"):
        client.delete(key)
    yield
    client.close()


def _daily_call(version: TemplateVersion) -> Call:
    return call_create(
        version=version,
        execution_mode=Call.ExecutionMode.DAILY,
        provider="daily",
        payload=ORDER_PAYLOAD,
    )


@pytest.fixture
def session_call(
    daily_api: FakeDaily, acme_daily: None, published: TemplateVersion
) -> tuple[Call, DailyRoom]:
    call = _daily_call(published)
    with transaction.atomic():
        room = daily_room_assign(call=call, api_key=API_KEY, is_recording=True)
    return call, room


def test_a_warm_worker_gets_the_room_and_an_owner_token_that_may_record(
    session_call: tuple[Call, DailyRoom], daily_api: FakeDaily
) -> None:
    call, room = session_call

    with FakeWorker() as worker:
        assert daily_bot_dispatch(call_id=call.pk) is True

    [assignment] = worker.assignments
    assert assignment == {
        "type": "breeze.assign",
        "call_id": call.pk,
        "provider": "daily",
        "room_url": room.url,
        "token": assignment["token"],
        "is_recording": True,
    }
    assert daily_api.token_properties(assignment["token"]) == {
        "room_name": room.name,
        "exp": int(room.expires_at.timestamp()),
        "eject_at_token_exp": True,
        "is_owner": True,
        "user_name": "Breeze",
        "enable_recording": "cloud",
    }
    call.refresh_from_db()
    assert call.status == Call.Status.DIALING


def test_a_redelivered_dispatch_sends_no_second_bot(
    session_call: tuple[Call, DailyRoom], daily_api: FakeDaily
) -> None:
    call, _ = session_call

    with FakeWorker() as worker:
        first = daily_bot_dispatch(call_id=call.pk)
        again = daily_bot_dispatch(call_id=call.pk)

    assert (first, again) == (True, False)
    assert len(worker.assignments) == 1
    assert len(daily_api.tokens) == 1


def test_without_a_worker_the_session_fails_and_a_worker_is_asked_for(
    session_call: tuple[Call, DailyRoom], monkeypatch: pytest.MonkeyPatch
) -> None:
    call, _ = session_call
    monkeypatch.setattr(dispatch, "COLD_START_SECONDS", 0.2)

    assert daily_bot_dispatch(call_id=call.pk) is True

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        "no_worker",
    )
    assert pool.pool_empty_count(pool.sync_client()) == 1


def test_daily_down_is_retried_while_the_call_waits_then_the_session_fails(
    session_call: tuple[Call, DailyRoom], daily_api: FakeDaily
) -> None:
    call, _ = session_call
    daily_api.fail(503, times=2)

    with pytest.raises(Retry):
        daily_bot_dispatch_task.apply(args=(call.pk,))
    call.refresh_from_db()
    assert call.status == Call.Status.QUEUED
    daily_bot_dispatch_task.apply(args=(call.pk,), retries=DISPATCH_RETRIES)

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        "provider_error",
    )
    assert [path for _, path, _ in daily_api.requests].count("/meeting-tokens") == 2


def test_a_refused_bot_token_fails_the_session_without_retry(
    session_call: tuple[Call, DailyRoom], daily_api: FakeDaily
) -> None:
    call, _ = session_call
    daily_api.fail(400, "bad properties")

    daily_bot_dispatch_task.apply(args=(call.pk,))

    call.refresh_from_db()
    assert (call.disposition, call.end_reason) == (Call.Disposition.FAILED, "provider_rejected")
    assert [path for _, path, _ in daily_api.requests].count("/meeting-tokens") == 1


def test_a_session_whose_merchant_lost_its_daily_key_fails_without_a_bot(
    session_call: tuple[Call, DailyRoom], daily_api: FakeDaily
) -> None:
    call, _ = session_call
    ProviderCredential.objects.filter(provider="daily").update(is_active=False)

    assert daily_bot_dispatch(call_id=call.pk) is True

    call.refresh_from_db()
    assert (call.disposition, call.end_reason) == (
        Call.Disposition.FAILED,
        "provider_not_configured",
    )
    assert daily_api.tokens == []


def test_sessions_no_bot_ever_reached_are_ended_by_the_pool_task(
    session_call: tuple[Call, DailyRoom], published: TemplateVersion, settings: LazySettings
) -> None:
    settings.DAILY_CLIENT_JOIN_SECONDS = 120
    lost, _ = session_call
    joined = _daily_call(published)
    recent = _daily_call(published)
    long_ago = timezone.now() - dt.timedelta(seconds=181)
    Call.objects.filter(pk__in=[lost.pk, joined.pk]).update(created_at=long_ago)
    Call.objects.filter(pk=joined.pk).update(status=Call.Status.IN_PROGRESS)

    daily_room_pool_maintain_task.delay()

    states = dict(Call.objects.values_list("pk", "end_reason"))
    assert states == {lost.pk: "dispatch_lost", joined.pk: "", recent.pk: ""}
    assert Call.objects.get(pk=lost.pk).disposition == Call.Disposition.FAILED
