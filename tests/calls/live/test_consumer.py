"""The admin's live-call websocket, through the real ASGI stack and the Redis channel layer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from breeze.asgi import application
from calls.live import consumers
from calls.live.feed import EndRequests, LiveFeed
from calls.models import Call
from calls.services import call_advance, call_record_node, call_record_turn
from calls.voice.writer import CallWriter
from config.models import Membership, Merchant

pytestmark = pytest.mark.django_db(transaction=True)
Role = Membership.Role


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def _watch(call_id: int, user: User | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if user is not None:
        cookie = await sync_to_async(_session_cookie)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/live/calls/{call_id}/", headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _closed_with(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    code: int = output["code"]
    return code


async def _receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await communicator.receive_from(timeout=5))
    return message


@pytest.fixture
def member(make_member: Callable[[str, Merchant | None], User]) -> Callable[..., Any]:
    return sync_to_async(make_member)


async def test_a_watcher_must_be_signed_in(call: Call, redis_layer: BaseChannelLayer) -> None:
    communicator = await _watch(call.pk, None)

    assert await _closed_with(communicator) == consumers.CLOSE_UNAUTHENTICATED


async def test_another_merchants_call_is_not_found(
    call: Call, redis_layer: BaseChannelLayer, member: Callable[..., Any], tenants: Any
) -> None:
    globex_operator = await member(Role.OPERATOR, tenants.globex)

    communicator = await _watch(call.pk, globex_operator)

    assert await _closed_with(communicator) == consumers.CLOSE_NOT_FOUND


async def test_a_viewer_gets_the_backlog_then_live_events_in_order(
    call: Call, redis_layer: BaseChannelLayer, member: Callable[..., Any], tenants: Any
) -> None:
    await sync_to_async(call_advance)(call_id=call.pk, status=Call.Status.IN_PROGRESS)
    await sync_to_async(call_record_node)(call_id=call.pk, node="greeting")
    await sync_to_async(call_record_turn)(
        call_id=call.pk, index=0, speaker="bot", text="Hello!", node="greeting"
    )
    viewer = await member(Role.VIEWER, tenants.acme)

    communicator = await _watch(call.pk, viewer)
    backlog = await _receive(communicator)
    # The worker goes on: turn 0 again (a write the watcher already read), then new ones.
    feed = LiveFeed(call_id=call.pk)
    writer = CallWriter(on_written=feed.written)
    writer.start()
    feed.start()
    writer.write(call_record_turn, call_id=call.pk, index=0, speaker="bot", text="Hello!")
    writer.write(call_record_turn, call_id=call.pk, index=1, speaker="customer", text="Yes")
    writer.write(call_record_node, call_id=call.pk, node="confirm")
    writer.write(
        call_record_turn,
        call_id=call.pk,
        index=2,
        speaker="bot",
        text="Thanks.",
        node="confirm",
        latency={"total_ms": 850, "stt_ms": 150, "llm_ms": 400, "tts_ms": 300},
    )
    await writer.flush()
    await feed.close()
    live = [await _receive(communicator) for _ in range(3)]

    assert backlog["type"] == "backlog"
    assert backlog["may_end"] is False
    assert backlog["call"]["id"] == call.pk
    assert backlog["call"]["status"] == "in_progress"
    assert backlog["call"]["node"] == "greeting"
    assert [turn["text"] for turn in backlog["turns"]] == ["Hello!"]
    assert [event["type"] for event in live] == ["turn", "node", "turn"]
    assert live[0]["turn"]["index"] == 1
    assert live[1] == {"type": "node", "node": "confirm"}
    assert live[2]["turn"]["index"] == 2
    assert live[2]["turn"]["latency_ms"] == 850
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_a_viewer_may_not_end_the_call(
    call: Call, redis_layer: BaseChannelLayer, member: Callable[..., Any], tenants: Any
) -> None:
    await sync_to_async(call_advance)(call_id=call.pk, status=Call.Status.IN_PROGRESS)
    viewer = await member(Role.VIEWER, tenants.acme)
    heard: list[str] = []

    async def on_end(requested_by: str) -> None:
        heard.append(requested_by)

    listener = EndRequests(call_id=call.pk, on_end=on_end)
    listener.start()
    await asyncio.wait_for(listener.listening.wait(), 2)
    communicator = await _watch(call.pk, viewer)
    await _receive(communicator)

    await communicator.send_to(text_data=json.dumps({"action": "end_call"}))
    answer = await _receive(communicator)
    await asyncio.sleep(0.3)
    await listener.stop()

    assert answer == {
        "type": "error",
        "code": "forbidden",
        "message": "Your role may watch this call but not end it.",
    }
    assert heard == []
    await communicator.disconnect()


async def test_an_operator_ends_a_live_call(
    call: Call, redis_layer: BaseChannelLayer, member: Callable[..., Any], tenants: Any
) -> None:
    await sync_to_async(call_advance)(call_id=call.pk, status=Call.Status.IN_PROGRESS)
    operator = await member(Role.OPERATOR, tenants.acme)
    ended = asyncio.Event()
    heard: list[str] = []

    async def on_end(requested_by: str) -> None:
        heard.append(requested_by)
        ended.set()

    listener = EndRequests(call_id=call.pk, on_end=on_end)
    listener.start()
    await asyncio.wait_for(listener.listening.wait(), 2)
    communicator = await _watch(call.pk, operator)
    backlog = await _receive(communicator)

    await communicator.send_to(text_data=json.dumps({"action": "end_call"}))
    answer = await _receive(communicator)
    await asyncio.wait_for(ended.wait(), 2)
    await listener.stop()

    assert backlog["may_end"] is True
    assert answer == {"type": "end_requested"}
    assert heard == [operator.username]
    await communicator.disconnect()


async def test_a_finished_call_cannot_be_ended(
    call: Call, redis_layer: BaseChannelLayer, member: Callable[..., Any], tenants: Any
) -> None:
    await sync_to_async(call_advance)(call_id=call.pk, status=Call.Status.ENDED)
    operator = await member(Role.OPERATOR, tenants.acme)
    communicator = await _watch(call.pk, operator)
    await _receive(communicator)

    await communicator.send_to(text_data=json.dumps({"action": "end_call"}))
    answer = await _receive(communicator)
    await communicator.send_to(text_data="not json")
    garbled = await _receive(communicator)

    assert answer == {
        "type": "error",
        "code": "not_live",
        "message": "Only a call in progress can be ended; this one is ended.",
    }
    assert garbled["code"] == "bad_message"
    await communicator.disconnect()
