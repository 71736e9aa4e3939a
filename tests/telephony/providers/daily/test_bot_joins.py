"""From dispatch to the join, with a real warm call worker: the dispatcher claims the worker
from the pool, hands it the room and the bot's token, the worker accepts and tries the room.
Daily's servers are out of reach here, so the join fails and the call ends `daily_error`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from calls.models import Call
from calls.services import call_create
from calls.voice import pool
from calls.voice.worker import CallWorker
from telephony.providers.daily.dispatch import daily_bot_dispatch
from telephony.providers.daily.models import DailyRoom
from telephony.providers.daily.rooms import daily_room_assign
from templates_app.models import TemplateVersion
from tests.calls.conftest import ORDER_PAYLOAD
from tests.telephony.providers.daily.fake_daily import API_KEY, FakeDaily


@pytest.fixture
async def empty_pool() -> AsyncIterator[None]:
    client = pool.async_client()
    async for key in client.scan_iter(f"{pool.PREFIX}*"):
        await client.delete(key)
    yield
    await client.aclose()


def _session(version: TemplateVersion) -> Call:
    call = call_create(
        version=version,
        execution_mode=Call.ExecutionMode.DAILY_TEST,
        provider="daily",
        payload=ORDER_PAYLOAD,
    )
    with transaction.atomic():
        daily_room_assign(call=call, api_key=API_KEY, is_recording=False)
    return call


@pytest.mark.django_db(transaction=True)
async def test_a_dispatched_bot_reaches_a_warm_worker_which_tries_the_room(
    daily_api: FakeDaily, acme_daily: None, published: TemplateVersion, empty_pool: None
) -> None:
    call = await sync_to_async(_session)(published)
    worker = CallWorker(worker_id="w-daily-e2e")
    serving = asyncio.create_task(worker.run())
    client = pool.async_client()
    try:
        while await client.llen(pool.IDLE) == 0:
            assert not serving.done()
            await asyncio.sleep(0.1)

        dispatched = await asyncio.to_thread(daily_bot_dispatch, call_id=call.pk)
        await asyncio.wait_for(serving, timeout=90)
    finally:
        await client.aclose()

    assert dispatched is True
    assert worker.call_id == call.pk
    await sync_to_async(call.refresh_from_db)()
    room = await DailyRoom.objects.aget(call_id=call.pk)
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        "daily_error",
    )
    assert room.status == DailyRoom.Status.ASSIGNED
    assert [properties["is_owner"] for properties in daily_api.tokens] == [True]
