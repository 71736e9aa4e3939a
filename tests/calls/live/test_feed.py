"""The worker's live feed: stored writes reach watchers in order; a dead layer hurts nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer
from channels_redis.core import RedisChannelLayer  # type: ignore[import-untyped]

from calls.live.events import LIVE_EVENT, live_group
from calls.live.feed import EndRequests, LiveFeed
from calls.models import Call, Turn
from calls.services import call_end, call_record_node, call_record_turn, call_update_outcome
from calls.voice.writer import CallWriter
from tests.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

LATENCY = {"total_ms": 910, "stt_ms": 200, "llm_ms": 410, "tts_ms": 300}


def _write_conversation(writer: CallWriter, call_id: int) -> None:
    writer.write(call_record_node, call_id=call_id, node="greeting")
    writer.write(
        call_record_turn, call_id=call_id, index=0, speaker="bot", text="Hello!", node="greeting"
    )
    writer.write(
        call_record_turn,
        call_id=call_id,
        index=1,
        speaker="customer",
        text="Yes, that's me",
        node="greeting",
        function_called="confirm_identity",
    )
    writer.write(
        call_update_outcome, call_id=call_id, outcome="confirmed", fields={"order_id": "A1"}
    )
    writer.write(
        call_record_turn,
        call_id=call_id,
        index=2,
        speaker="bot",
        text="Great.",
        node="confirm",
        latency=LATENCY,
    )


async def test_stored_writes_reach_watchers_in_order(
    call: Call, redis_layer: BaseChannelLayer
) -> None:
    watcher = await redis_layer.new_channel()
    await redis_layer.group_add(live_group(call.pk), watcher)
    feed = LiveFeed(call_id=call.pk)
    writer = CallWriter(on_written=feed.written)
    writer.start()
    feed.start()

    _write_conversation(writer, call.pk)
    await writer.flush()
    await feed.close()
    received = [await asyncio.wait_for(redis_layer.receive(watcher), 2) for _ in range(5)]

    assert all(message["type"] == LIVE_EVENT for message in received)
    events = [message["event"] for message in received]
    assert [event["type"] for event in events] == ["node", "turn", "turn", "outcome", "turn"]
    assert events[0] == {"type": "node", "node": "greeting"}
    assert events[2]["turn"] == {
        "index": 1,
        "speaker": "customer",
        "text": "Yes, that's me",
        "node": "greeting",
        "function_called": "confirm_identity",
        "latency_ms": None,
        "stt_ms": None,
        "llm_ms": None,
        "tts_ms": None,
    }
    assert events[3] == {"type": "outcome", "outcome": "confirmed", "fields": {"order_id": "A1"}}
    assert events[4]["turn"]["index"] == 2
    assert (events[4]["turn"]["latency_ms"], events[4]["turn"]["llm_ms"]) == (910, 410)


async def test_an_unreachable_channel_layer_never_hurts_the_call(
    call: Call, caplog: pytest.LogCaptureFixture
) -> None:
    dead = RedisChannelLayer(hosts=[f"redis://127.0.0.1:{free_port()}/0"])
    feed = LiveFeed(call_id=call.pk, layer=dead)
    writer = CallWriter(on_written=feed.written)
    writer.start()
    feed.start()

    with caplog.at_level(logging.WARNING, logger="calls.live.feed"):
        _write_conversation(writer, call.pk)
        await writer.flush()
        await asyncio.wait_for(feed.close(), 5)

    stored = [
        index async for index in Turn.objects.filter(call=call).values_list("index", flat=True)
    ]
    assert stored == [0, 1, 2]
    failures = [r for r in caplog.records if "could not publish" in r.getMessage()]
    assert len(failures) == 1  # one line per outage, not one per event


async def test_a_failed_write_publishes_nothing(call: Call, redis_layer: BaseChannelLayer) -> None:
    watcher = await redis_layer.new_channel()
    await redis_layer.group_add(live_group(call.pk), watcher)
    feed = LiveFeed(call_id=call.pk)
    writer = CallWriter(on_written=feed.written)
    writer.start()
    feed.start()

    writer.write(call_record_node, call_id=call.pk + 1000, node="greeting")  # no such call
    writer.write(call_record_node, call_id=call.pk, node="after")
    await writer.flush()
    await feed.close()

    first = await asyncio.wait_for(redis_layer.receive(watcher), 2)
    assert first["event"] == {"type": "node", "node": "after"}


async def test_the_worker_hears_an_end_request(call: Call, redis_layer: BaseChannelLayer) -> None:
    heard: list[str] = []
    ended = asyncio.Event()

    async def on_end(requested_by: str) -> None:
        heard.append(requested_by)
        ended.set()

    listener = EndRequests(call_id=call.pk, on_end=on_end)
    listener.start()
    await asyncio.wait_for(listener.listening.wait(), 2)
    await redis_layer.group_send(
        f"live.call.{call.pk}.control", {"type": "call.end", "requested_by": "ops"}
    )
    await asyncio.wait_for(ended.wait(), 2)
    await listener.stop()

    assert heard == ["ops"]


async def test_watchers_learn_of_an_end_whoever_recorded_it(
    call: Call, redis_layer: BaseChannelLayer
) -> None:
    watcher = await redis_layer.new_channel()
    await redis_layer.group_add(live_group(call.pk), watcher)

    # The crash reconciler, a provider callback: not the worker's own feed.
    await sync_to_async(call_end)(
        call_id=call.pk, disposition=Call.Disposition.FAILED, end_reason="worker_crashed"
    )
    message = await asyncio.wait_for(redis_layer.receive(watcher), 2)

    assert message["event"] == {
        "type": "status",
        "status": "ended",
        "disposition": "failed",
        "end_reason": "worker_crashed",
    }
