"""The media consumer: token before worker, relay unchanged both ways, clean closes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import LazySettings, settings
from websockets.asyncio.server import ServerConnection, serve

from calls.models import Call
from calls.voice import pool
from telephony import consumers
from telephony.routing import websocket_urlpatterns
from telephony.tokens import media_token_issue

pytestmark = pytest.mark.django_db(transaction=True)
APP = URLRouter(websocket_urlpatterns)  # type: ignore[arg-type]


def _start(token: str, call_sid: str = "CA1") -> str:
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": "MZ1",
            "start": {
                "accountSid": "AC1",
                "streamSid": "MZ1",
                "callSid": call_sid,
                "tracks": ["inbound"],
                "customParameters": {"token": token},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        }
    )


CONNECTED = json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
MEDIA = json.dumps(
    {
        "event": "media",
        "sequenceNumber": "2",
        "streamSid": "MZ1",
        "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": "/////w=="},
    }
)


@pytest.fixture(autouse=True)
def _clean_pool() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{pool.PREFIX}*"):
        client.delete(key)


@dataclass
class FakeWorker:
    """Registers like a warm worker and records what the relay delivers."""

    received: list[str] = field(default_factory=list)
    reply: str = json.dumps({"event": "media", "streamSid": "MZ1", "media": {"payload": "AAAA"}})
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    got_media: asyncio.Event = field(default_factory=asyncio.Event)
    link_closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_after_media: bool = True
    # Set once this many messages have arrived (0: never).
    expected: int = 0
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def handler(self, connection: ServerConnection) -> None:
        self.connected.set()
        try:
            await self._serve(connection)
        finally:
            self.link_closed.set()

    async def _serve(self, connection: ServerConnection) -> None:
        async for message in connection:
            self.received.append(str(message))
            if len(self.received) == self.expected:
                self.all_in.set()
            if len(self.received) == 3:  # assign, connected, start
                await connection.send(self.reply)
            if '"media"' in str(message):
                self.got_media.set()
                if self.close_after_media:
                    await connection.close(1000, "call ended")


@pytest.fixture
async def fake_worker() -> AsyncIterator[FakeWorker]:
    worker = FakeWorker()
    async with serve(worker.handler, "127.0.0.1", 0) as server:
        client = pool.async_client()
        port = server.sockets[0].getsockname()[1]
        await pool.worker_heartbeat(
            client, worker_id="fake1", address=f"ws://127.0.0.1:{port}", pid=1, call_id=None
        )
        await client.aclose()
        yield worker


def _idle_workers() -> list[bytes]:
    return list(redis.Redis.from_url(settings.REDIS_URL).lrange(pool.IDLE, 0, -1))  # type: ignore[arg-type]


async def test_unknown_provider_is_refused_at_connect(call: Call) -> None:
    communicator = WebsocketCommunicator(APP, f"/ws/media/skype/{call.pk}/")

    connected, code = await communicator.connect()

    assert (connected, code) == (False, consumers.CLOSE_UNKNOWN_PROVIDER)


@pytest.mark.parametrize("_case", ["forged", "reused", "expired"])
async def test_a_bad_token_is_refused_before_any_worker_is_claimed(
    _case: str, call: Call, fake_worker: FakeWorker, settings: LazySettings
) -> None:
    token = "forged" if _case == "forged" else media_token_issue(call=call)
    if _case == "reused":
        await asyncio.to_thread(_spend, token, call.pk)
    if _case == "expired":
        settings.BREEZE_MEDIA_TOKEN_MAX_AGE = -1
    communicator = WebsocketCommunicator(APP, f"/ws/media/twilio/{call.pk}/")
    await communicator.connect()

    await communicator.send_to(text_data=CONNECTED)
    await communicator.send_to(text_data=_start(token))
    output = await communicator.receive_output(timeout=5)

    assert output == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHORIZED}
    assert _idle_workers() == [b"fake1"]
    assert not fake_worker.connected.is_set()


async def _relayed(provider: str, call: Call) -> WebsocketCommunicator:
    """A stream past its `start`, relayed to the worker, which has sent its first reply."""
    communicator = WebsocketCommunicator(APP, f"/ws/media/{provider}/{call.pk}/")
    await communicator.connect()
    await communicator.send_to(text_data=CONNECTED)
    await communicator.send_to(text_data=_start(media_token_issue(call=call)))
    await communicator.receive_from(timeout=5)
    return communicator


def _spend(token: str, call_id: int) -> None:
    from telephony.tokens import media_token_consume

    media_token_consume(token=token, call_id=call_id)


async def test_messages_are_relayed_unchanged_both_ways(
    call: Call, fake_worker: FakeWorker
) -> None:
    communicator = WebsocketCommunicator(APP, f"/ws/media/simulator/{call.pk}/")
    await communicator.connect()
    start = _start(media_token_issue(call=call))

    await communicator.send_to(text_data=CONNECTED)
    await communicator.send_to(text_data="not json at all")
    await communicator.send_to(text_data=start)
    reply = await communicator.receive_from(timeout=5)
    await communicator.send_to(text_data="x" * (consumers.MAX_MESSAGE_CHARS + 1))
    await communicator.send_to(text_data=MEDIA)
    await asyncio.wait_for(fake_worker.got_media.wait(), 5)
    closed = await communicator.receive_output(timeout=5)

    assert json.loads(fake_worker.received[0]) == {
        "type": "breeze.assign",
        "call_id": call.pk,
        "provider": "simulator",
    }
    assert fake_worker.received[1:] == [CONNECTED, "not json at all", start, MEDIA]
    assert reply == fake_worker.reply
    assert closed == {"type": "websocket.close", "code": 1000}
    assert _idle_workers() == []


async def test_an_empty_pool_asks_for_a_worker_and_gives_up_cleanly(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "COLD_START_SECONDS", 0.5)
    communicator = WebsocketCommunicator(APP, f"/ws/media/twilio/{call.pk}/")
    await communicator.connect()

    await communicator.send_to(text_data=_start(media_token_issue(call=call)))
    output = await communicator.receive_output(timeout=5)

    client = redis.Redis.from_url(settings.REDIS_URL)
    assert output == {"type": "websocket.close", "code": consumers.CLOSE_NO_WORKER}
    assert client.llen(pool.SPAWN) == 1
    assert client.get(pool.POOL_EMPTY_COUNT) == b"1"


async def test_a_customer_hang_up_closes_the_worker_link(
    call: Call, fake_worker: FakeWorker
) -> None:
    fake_worker.close_after_media = False
    communicator = await _relayed("twilio", call)

    await communicator.disconnect()
    await asyncio.wait_for(fake_worker.link_closed.wait(), 5)

    assert len(fake_worker.received) == 3


async def test_a_stream_closed_before_start_claims_no_worker_and_leaves_the_call_alone(
    call: Call, fake_worker: FakeWorker
) -> None:
    token = media_token_issue(call=call)
    communicator = WebsocketCommunicator(APP, f"/ws/media/twilio/{call.pk}/")
    await communicator.connect()
    await communicator.send_to(text_data=CONNECTED)

    await communicator.disconnect()
    await asyncio.sleep(0.2)

    # The provider's status callback, not the stream, ends a call that never started.
    row = await Call.objects.aget(pk=call.pk)
    assert (row.status, row.worker_id) == (call.status, "")
    assert not fake_worker.connected.is_set()
    assert _idle_workers() == [b"fake1"]
    # The token was never spent: a stream that does reach `start` is still accepted.
    retry = WebsocketCommunicator(APP, f"/ws/media/twilio/{call.pk}/")
    await retry.connect()
    await retry.send_to(text_data=_start(token))
    await asyncio.wait_for(fake_worker.connected.wait(), 5)
    await retry.disconnect()


async def test_relayed_media_skips_channels_database_cleanup(
    call: Call, fake_worker: FakeWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Channels closes stale database connections through a thread hop before each message;
    # the relay touches no database, so only the messages before it is up pay for that.
    cleanups: list[int] = []

    async def cleanup() -> None:
        cleanups.append(len(fake_worker.received))

    monkeypatch.setattr(consumers, "aclose_old_connections", cleanup)
    fake_worker.close_after_media = False
    fake_worker.expected = 3 + 5  # assign, connected, start and five media messages
    communicator = await _relayed("simulator", call)

    for _ in range(5):
        await communicator.send_to(text_data=MEDIA)
    await asyncio.wait_for(fake_worker.all_in.wait(), 5)

    # websocket.connect, then `connected` and `start` before any worker was linked.
    assert cleanups == [0, 0, 0]
    assert fake_worker.received[3:] == [MEDIA] * 5
    await communicator.disconnect()


async def test_the_consumer_takes_no_channel_on_the_channel_layer(
    call: Call, fake_worker: FakeWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A channel would cost a Redis receive loop per call and a task per message; the relay
    # never receives from the channel layer.
    new_channels: list[object] = []
    layer = get_channel_layer()
    assert layer is not None
    original = layer.new_channel

    async def new_channel(*args: Any) -> str:
        new_channels.append(args)
        return await original(*args)

    monkeypatch.setattr(layer, "new_channel", new_channel)
    communicator = await _relayed("simulator", call)
    await communicator.send_to(text_data=MEDIA)
    await asyncio.wait_for(fake_worker.got_media.wait(), 5)

    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 1000}
    assert new_channels == []
