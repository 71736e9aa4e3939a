"""A Daily session in the worker: the assignment, the DailyTransport's configuration, the room's
events mapped to the call, and the bot's whole path up to joining (Daily's servers are out of
reach here, so the join itself fails and the call ends accordingly)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import LazySettings
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from calls.models import Call
from calls.selectors import call_context_load
from calls.services import call_create
from calls.voice.daily import (
    BOT_NAME,
    DailyAssignment,
    daily_assignment_parse,
    daily_ending,
    daily_session_build,
)
from calls.voice.worker import CallWorker
from config.services import provider_credential_create
from templates_app.models import TemplateVersion
from templates_app.pipecat_compat import DailyTransport, EndFrame
from tests.calls.conftest import ORDER_PAYLOAD
from tests.conftest import Tenants

ROOM_URL = "https://breeze-test.daily.co/breeze-0123456789abcdef0123"
BOT_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJyb29tX25hbWUiOiJicmVlemUifQ.signature"
MakeCall = Callable[[], Call]


@pytest.fixture
def daily_call(tenants: Tenants, published: TemplateVersion) -> MakeCall:
    def make() -> Call:
        provider_credential_create(
            merchant=tenants.acme, provider="daily", secrets={"api_key": "daily-key"}
        )
        return call_create(
            version=published,
            execution_mode=Call.ExecutionMode.DAILY,
            provider="daily",
            payload=ORDER_PAYLOAD,
        )

    return make


def _assignment(call_id: int, *, is_recording: bool = False) -> DailyAssignment:
    return DailyAssignment(
        call_id=call_id, room_url=ROOM_URL, token=BOT_TOKEN, is_recording=is_recording
    )


def test_an_assignment_carries_the_room_the_bot_token_and_the_recording_toggle() -> None:
    message = {
        "type": "breeze.assign",
        "call_id": 7,
        "provider": "daily",
        "room_url": ROOM_URL,
        "token": BOT_TOKEN,
        "is_recording": True,
    }

    assert daily_assignment_parse(message) == DailyAssignment(7, ROOM_URL, BOT_TOKEN, True)


@pytest.mark.parametrize(
    ("_case", "changes"),
    [
        ("no room", {"room_url": None}),
        ("empty token", {"token": ""}),
        ("no call", {"call_id": "x"}),
    ],
)
def test_a_malformed_assignment_is_refused(_case: str, changes: dict[str, Any]) -> None:
    message = {"call_id": 7, "room_url": ROOM_URL, "token": BOT_TOKEN, **changes}

    with pytest.raises((TypeError, ValueError)):
        daily_assignment_parse(message)


def test_the_transport_joins_the_assigned_room_as_the_bot_with_audio_at_the_pipeline_rate(
    daily_call: MakeCall, settings: LazySettings
) -> None:
    settings.DAILY_API_BASE_URL = "http://127.0.0.1:9/v1"
    call = daily_call()
    context = call_context_load(call_id=call.pk)

    daily = daily_session_build(context, _assignment(call.pk), worker_id="w-daily")

    transport = daily.transport
    assert isinstance(transport, DailyTransport)
    client = transport._client
    assert (client._room_url, client._token, client._bot_name) == (ROOM_URL, BOT_TOKEN, BOT_NAME)
    params = client._params
    assert (params.api_url, params.api_key) == ("http://127.0.0.1:9/v1", "daily-key")
    assert (params.audio_in_enabled, params.audio_out_enabled) == (True, True)
    assert (params.audio_in_sample_rate, params.audio_out_sample_rate) == (8000, 8000)
    assert (params.audio_out_10ms_chunks, params.camera_out_enabled) == (2, False)
    assert (params.microphone_out_enabled, params.transcription_enabled) == (True, False)
    # The template's VAD reaches the Daily session's analyzer as it does a phone call's.
    vad = context.inputs.config.call.get("vad", {})
    analyzer = daily.session.vad.params
    assert (analyzer.confidence, analyzer.start_secs, analyzer.stop_secs) == (
        vad.get("confidence", 0.7),
        vad.get("start_secs", 0.2),
        vad.get("stop_secs", 0.8),
    )
    handlers = transport._event_handlers
    assert [
        len(handlers[name].handlers)
        for name in ("on_first_participant_joined", "on_participant_left", "on_error")
    ] == [1, 1, 1]


@pytest.mark.django_db(transaction=True)
async def test_the_client_joining_starts_the_call_and_the_recording_when_asked(
    daily_call: MakeCall, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = await sync_to_async(daily_call)()
    context = await sync_to_async(call_context_load)(call_id=call.pk)
    daily = daily_session_build(context, _assignment(call.pk, is_recording=True), worker_id="w-1")
    recordings: list[tuple[Any, ...]] = []

    async def start_recording(*args: Any) -> None:
        # Daily's servers are the process boundary: recording starts there.
        recordings.append(args)

    monkeypatch.setattr(daily.transport, "start_recording", start_recording)

    await daily.transport._call_event_handler("on_first_participant_joined", {"id": "client-1"})
    await asyncio.sleep(0.5)

    await sync_to_async(call.refresh_from_db)()
    assert (call.status, call.worker_id) == (Call.Status.IN_PROGRESS, "w-1")
    assert daily.presence.client_joined.is_set()
    assert recordings == [()]


@pytest.mark.django_db(transaction=True)
async def test_the_client_leaving_ends_the_conversation_as_a_customer_hang_up(
    daily_call: MakeCall, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = await sync_to_async(daily_call)()
    context = await sync_to_async(call_context_load)(call_id=call.pk)
    daily = daily_session_build(context, _assignment(call.pk), worker_id="w-1")
    queued: list[Any] = []

    async def queue_frame(frame: Any, *_: Any) -> None:
        queued.append(frame)

    monkeypatch.setattr(daily.session.worker, "queue_frame", queue_frame)
    daily.presence.client_joined.set()

    await daily.transport._call_event_handler("on_participant_left", {"id": "client-1"}, "leftCall")
    await asyncio.sleep(0.2)

    assert [type(frame) for frame in queued] == [EndFrame]
    ending = daily_ending(daily)
    assert (ending.disposition, ending.end_reason) == (
        Call.Disposition.EARLY_HANGUP,
        "customer_hangup",
    )


def test_a_bot_nobody_joined_ends_as_no_answer_or_failed_on_a_daily_error(
    daily_call: MakeCall,
) -> None:
    call = daily_call()
    daily = daily_session_build(
        call_context_load(call_id=call.pk), _assignment(call.pk), worker_id="w-1"
    )

    never = daily_ending(daily)
    daily.presence.error = "join failed"
    failed = daily_ending(daily)

    assert (never.disposition, never.end_reason) == (
        Call.Disposition.NO_ANSWER,
        "client_never_joined",
    )
    assert (failed.disposition, failed.end_reason) == (Call.Disposition.FAILED, "daily_error")


@pytest.mark.django_db(transaction=True)
async def test_a_worker_accepts_a_daily_assignment_tries_the_room_and_ends_the_call(
    daily_call: MakeCall, settings: LazySettings
) -> None:
    settings.DAILY_CLIENT_JOIN_SECONDS = 120
    call = await sync_to_async(daily_call)()
    worker = CallWorker(worker_id="w-daily")
    assignment = {
        "type": "breeze.assign",
        "call_id": call.pk,
        "provider": "daily",
        "room_url": ROOM_URL,
        "token": BOT_TOKEN,
        "is_recording": False,
    }

    async with serve(worker._serve, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as link:
            await link.send(json.dumps(assignment))
            answer = json.loads(await link.recv())
        await asyncio.wait_for(worker.done.wait(), timeout=60)

    assert answer == {"type": "breeze.accepted", "call_id": call.pk}
    await sync_to_async(call.refresh_from_db)()
    assert call.status == Call.Status.ENDED
    # Daily's servers cannot be reached from here: the join fails and the bot stops at once
    # (long before the 120 s a client has to join).
    assert (call.disposition, call.end_reason) == (Call.Disposition.FAILED, "daily_error")
