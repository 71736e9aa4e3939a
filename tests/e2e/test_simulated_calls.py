"""Complete calls over the real media path: persona → Daphne → relay → warm worker → Pipecat.

Offline speech end to end: the persona speaks with Piper, the bot hears with pocketsphinx
(a grammar of the node's examples), answers with the rules engine and speaks with Piper.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings

from calls.models import Call
from calls.services import call_create
from calls.voice import pool
from telephony.providers.simulator.dialer import simulator_dial
from telephony.providers.simulator.persona import PERSONAS
from telephony.tokens import media_token_issue
from templates_app.models import Template
from tests.demo_payloads import DEMO_PAYLOADS
from tests.e2e.conftest import POOL_SIZE, Stack, ended_call, idle_workers, place
from tests.processes import wait_for

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


# persona → (template, expected outcome, expected path, expected disposition)
PATHS: dict[str, tuple[str, str, list[str], str]] = {
    "cod-confirm": (
        "order-confirmation",
        "confirmed",
        ["confirm_order", "order_confirmed"],
        "answered",
    ),
    "cod-cancel": (
        "order-confirmation",
        "cancelled",
        ["confirm_order", "cancel_reason", "order_cancelled"],
        "answered",
    ),
    "cod-reschedule": (
        "order-confirmation",
        "rescheduled",
        ["confirm_order", "reschedule", "delivery_rescheduled"],
        "answered",
    ),
    "cod-human": (
        "order-confirmation",
        "human_requested",
        ["confirm_order", "__end__"],
        "transferred",
    ),
    "cart-buy": ("abandoned-cart", "will_purchase", ["pitch", "offer_discount"], "answered"),
    "cart-not-interested": (
        "abandoned-cart",
        "not_interested",
        ["pitch", "ask_reason", "goodbye"],
        "answered",
    ),
    "cart-later": (
        "abandoned-cart",
        "callback_requested",
        ["pitch", "callback_time", "goodbye"],
        "answered",
    ),
    "cart-stop": ("abandoned-cart", "", ["pitch", "__end__"], "answered"),
    "address-ok": (
        "address-verification",
        "address_confirmed",
        ["verify_address", "thanks"],
        "answered",
    ),
    "address-fix": (
        "address-verification",
        "address_corrected",
        ["verify_address", "collect_address", "thanks_corrected"],
        "answered",
    ),
    "address-wrong-person": (
        "address-verification",
        "wrong_number",
        ["verify_address", "wrong_number"],
        "answered",
    ),
}


def _new_call(template_slug: str) -> Call:
    template = Template.objects.get(slug=template_slug, merchant__slug="acme")
    return call_create(
        version=template.versions.get(),
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider="simulator",
        customer_phone="+15555550123",
        payload=DEMO_PAYLOADS[template_slug],
    )


async def _place(stack: Stack, persona: str, template_slug: str) -> tuple[Call, Any]:
    call = await sync_to_async(_new_call)(template_slug)
    return await place(stack, call, PERSONAS[persona])


def test_every_outcome_path_of_every_demo_template(stack: Stack, published: Any) -> None:
    from templates_app.services import template_load_demos

    template_load_demos(merchant=published.template.merchant)

    async def all_paths() -> dict[str, tuple[Call, Any]]:
        # One call at a time: on two cores, parallel calls make offline recognition flaky.
        slots = asyncio.Semaphore(1)

        async def one(persona: str) -> tuple[str, tuple[Call, Any]]:
            async with slots:
                return persona, await _place(stack, persona, PATHS[persona][0])

        return dict(await asyncio.gather(*(one(persona) for persona in PATHS)))

    results = asyncio.run(all_paths())

    report = {}
    for persona, (call, simulated) in results.items():
        turns = list(call.turns.order_by("index").values_list("speaker", "text", "latency_ms"))
        report[persona] = (call.outcome, call.node_path, call.disposition, turns, simulated.errors)
    expected = {
        persona: (outcome, path, disposition)
        for persona, (_, outcome, path, disposition) in PATHS.items()
    }
    assert {persona: row[:3] for persona, row in report.items()} == expected, report
    for persona, (call, simulated) in results.items():
        answers = [turn for turn in call.turns.all() if turn.latency_ms is not None]
        assert answers, f"{persona}: no answer latency recorded"
        assert simulated.errors == [], (persona, simulated.errors)


def test_a_worker_killed_mid_call_fails_only_that_call_and_the_pool_refills(
    stack: Stack, call: Call
) -> None:
    async def scenario() -> tuple[Any, Call, float]:
        token = await sync_to_async(media_token_issue)(call=call)
        dialing = asyncio.create_task(
            simulator_dial(
                call=call, token=token, persona=PERSONAS["cod-silent"], base_url=stack.base_url
            )
        )
        in_call = await sync_to_async(wait_for)(
            lambda: (
                Call.objects.filter(pk=call.pk, status=Call.Status.IN_PROGRESS)
                .exclude(worker_id="")
                .first()
            ),
            timeout=20,
            what="the call to start",
        )
        await asyncio.sleep(2)
        client = redis.Redis.from_url(settings.REDIS_URL)
        pid = int(client.hget(f"{pool.PREFIX}worker:{in_call.worker_id}", "pid"))  # type: ignore[arg-type]
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        ended = await sync_to_async(wait_for)(
            lambda: ended_call(call.pk), timeout=10, what="the crashed call to end"
        )
        result = await dialing
        return result, ended, time.monotonic() - killed_at

    result, ended, detected_after = asyncio.run(scenario())

    assert (ended.disposition, ended.end_reason) == ("failed", "worker_crashed")
    assert detected_after < 5
    assert result.hung_up_by == "bot"
    wait_for(
        lambda: True if idle_workers() >= POOL_SIZE else None, timeout=60, what="the pool to refill"
    )


def test_an_early_hang_up_is_recorded_as_such(stack: Stack, call: Call) -> None:
    ended, _ = asyncio.run(place(stack, call, PERSONAS["cod-hangup"]))

    assert (ended.disposition, ended.end_reason) == ("early_hangup", "customer_hangup")
