"""The provider's websocket drops mid-call (no `stop`, no close handshake): the call still ends."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from calls.models import Call
from telephony.providers.simulator.dialer import media_url
from telephony.tokens import media_token_issue
from tests.e2e.conftest import POOL_SIZE, Stack, ended_call, idle_workers
from tests.processes import wait_for

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

SILENCE = base64.b64encode(b"\xff" * 160).decode()


def _in_progress(call_id: int) -> Call | None:
    return Call.objects.filter(pk=call_id, status=Call.Status.IN_PROGRESS).first()


def test_a_dropped_provider_stream_ends_the_call_and_frees_the_worker(
    stack: Stack, call: Call
) -> None:
    async def scenario() -> Call:
        token = await sync_to_async(media_token_issue)(call=call)
        url = media_url(base_url=stack.base_url, provider="twilio", call_id=call.pk)
        async with connect(url) as ws:
            start = {"streamSid": "MZ1", "callSid": "CA1", "customParameters": {"token": token}}
            await ws.send(json.dumps({"event": "connected", "protocol": "Call"}))
            await ws.send(json.dumps({"event": "start", "streamSid": "MZ1", "start": start}))
            await sync_to_async(wait_for)(
                lambda: _in_progress(call.pk), timeout=20, what="the call to start"
            )
            for sequence in range(2, 52):
                media = {"event": "media", "sequenceNumber": str(sequence), "streamSid": "MZ1"}
                await ws.send(json.dumps(media | {"media": {"payload": SILENCE}}))
                await asyncio.sleep(0.02)
            # The carrier's side vanishes: the TCP connection dies without a close frame.
            ws.transport.abort()
        return await sync_to_async(wait_for)(
            lambda: ended_call(call.pk), timeout=15, what="the dropped call to end"
        )

    ended = asyncio.run(scenario())

    assert (ended.disposition, ended.end_reason) == ("early_hangup", "customer_hangup")
    wait_for(
        lambda: True if idle_workers() >= POOL_SIZE else None, timeout=60, what="the pool to refill"
    )
