"""Watching a simulated call from the admin's live view, and ending it from there.

Daphne and the voice pool run as processes; the watcher is a browser-like websocket client
signed in with an operator's session, so events cross the Redis channel layer for real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client
from websockets.asyncio.client import ClientConnection, connect

from calls.models import Call
from config.models import Membership, Merchant
from telephony.providers.simulator.dialer import simulator_dial
from telephony.providers.simulator.persona import PERSONAS
from telephony.tokens import media_token_issue
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, ended_call
from tests.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def _next(
    link: ClientConnection, wanted: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Events up to and including the first one `wanted` accepts."""
    seen: list[dict[str, Any]] = []
    while True:
        event = json.loads(await asyncio.wait_for(link.recv(), 20))
        seen.append(event)
        if wanted(event):
            return seen


def test_an_operator_watches_a_call_live_and_ends_it(
    stack: Stack,
    call: Call,
    tenants: Tenants,
    make_member: Callable[[str, Merchant | None], User],
) -> None:
    operator = make_member(Membership.Role.OPERATOR, tenants.acme)
    cookie = _session_cookie(operator)
    socket_url = stack.base_url.replace("http", "ws") + f"/ws/live/calls/{call.pk}/"

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
        async with connect(
            socket_url,
            origin=stack.base_url,  # type: ignore[arg-type]
            additional_headers={"Cookie": f"sessionid={cookie}"},
        ) as link:
            backlog = await _next(link, lambda event: event["type"] == "backlog")
            token = await sync_to_async(media_token_issue)(call=call)
            # The customer answers and then stays silent for 25 s: only the operator ends it.
            dialing = asyncio.create_task(
                simulator_dial(
                    call=call, token=token, persona=PERSONAS["cod-silent"], base_url=stack.base_url
                )
            )
            before_end = await _next(
                link, lambda event: event["type"] == "turn" and event["turn"]["speaker"] == "bot"
            )
            await link.send(json.dumps({"action": "end_call"}))
            after_end = await _next(link, lambda event: event["type"] == "status")
            result = await asyncio.wait_for(dialing, 20)
            return backlog + before_end, after_end, result

    seen, after_end, result = asyncio.run(scenario())

    assert seen[0]["type"] == "backlog"
    assert (seen[0]["call"]["status"], seen[0]["turns"]) == ("queued", [])
    kinds = [event["type"] for event in seen[1:]]
    assert seen[1] == {
        "type": "status",
        "status": "in_progress",
        "disposition": "",
        "end_reason": "",
    }
    assert "node" in kinds
    greeting = seen[-1]["turn"]
    assert (greeting["index"], greeting["speaker"], greeting["node"]) == (0, "bot", "confirm_order")
    assert after_end[0] == {"type": "end_requested"}
    assert after_end[-1] == {
        "type": "status",
        "status": "ended",
        "disposition": "answered",
        "end_reason": "operator_ended",
    }
    ended = wait_for(lambda: ended_call(call.pk), timeout=10, what="the call to end")
    assert (ended.disposition, ended.end_reason) == ("answered", "operator_ended")
    assert result.hung_up_by == "bot"
