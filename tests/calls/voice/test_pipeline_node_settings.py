"""A running call's pipeline takes each node's VAD and interruption settings, reset per node."""

from __future__ import annotations

import asyncio

import pytest

from calls.selectors import call_context_load
from calls.voice.pipeline import CallSession
from calls.voice.speech import registry
from templates_app.pipecat_compat import WorkerRunner
from tests.calls.voice.sessions import relay_session
from tests.conftest import Tenants
from tests.e2e.conftest import new_call, published_template
from tests.e2e.test_node_settings import DEFINITION

TEMPLATE_VAD = (0.6, 0.15, 0.8, 0.4)  # BREEZE_CALL_DEFAULTS: confidence, start, stop, volume


def _live(session: CallSession) -> tuple[tuple[float, ...], bool]:
    params = session.vad.params
    vad = (params.confidence, params.start_secs, params.stop_secs, params.min_volume)
    return vad, session.turns.start.barge_in


async def _settled(session: CallSession, expected: tuple[tuple[float, ...], bool]) -> None:
    # The VAD update travels as a frame; give it the time to reach the aggregator.
    for _ in range(100):
        if _live(session) == expected:
            return
        await asyncio.sleep(0.02)


@pytest.mark.django_db
def test_every_node_entered_resets_then_applies_its_overrides(tenants: Tenants) -> None:
    call = new_call(published_template(tenants.acme, "per-node", DEFINITION))
    context = call_context_load(call_id=call.pk)
    registry.warm_up()

    async def run() -> list[tuple[tuple[float, ...], bool]]:
        relay = relay_session(context)
        session, inbound = relay.session, relay.inbound
        seen = []
        started = asyncio.Event()

        async def on_started(_worker: object, _frame: object) -> None:
            started.set()

        session.worker.add_event_handler("on_pipeline_started", on_started)
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(session.worker)
        running = asyncio.create_task(runner.run())
        await asyncio.wait_for(started.wait(), 10)
        expectations = {
            "disclosure": ((0.6, 0.15, 2.5, 0.4), False),
            "questions": (TEMPLATE_VAD, True),
            "survey": ((0.6, 0.15, 0.5, 0.4), True),
            "goodbye": (TEMPLATE_VAD, True),
        }
        for node, expected in expectations.items():
            if node != "disclosure":  # the flow entered the first node itself
                await session.flow.enter(node)
            await _settled(session, expected)
            seen.append(_live(session))
        inbound.put_nowait(None)
        await asyncio.wait_for(running, 10)
        return seen

    seen = asyncio.run(run())

    assert seen == [
        ((0.6, 0.15, 2.5, 0.4), False),
        (TEMPLATE_VAD, True),
        ((0.6, 0.15, 0.5, 0.4), True),
        (TEMPLATE_VAD, True),
    ]
