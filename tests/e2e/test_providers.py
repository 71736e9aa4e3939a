"""Complete calls over Plivo's and Exotel's media-stream protocols: consumer, relay, warm worker.

The simulated customer speaks each provider's own dialect (Plivo: μ-law, numeric counters,
token in extra_headers, no stop; Exotel: raw PCM16, snake_case, bot chunks checked to be
≥100 ms in multiples of 320 bytes) and the worker runs that provider's Pipecat serializer.
"""

from __future__ import annotations

import asyncio

import pytest

from calls.models import Call
from telephony.providers.simulator.persona import PERSONAS
from templates_app.models import TemplateVersion
from tests.calls.conftest import ORDER_PAYLOAD
from tests.e2e.conftest import Stack, new_call, place

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


@pytest.mark.parametrize("provider", ["plivo", "exotel"])
def test_a_confirming_customer_over_the_provider_protocol(
    provider: str, stack: Stack, published: TemplateVersion
) -> None:
    call = new_call(published, provider=provider, payload=ORDER_PAYLOAD)

    ended, result = asyncio.run(place(stack, call, PERSONAS["cod-confirm"]))

    assert result.errors == []
    assert (ended.outcome, ended.node_path) == ("confirmed", ["confirm_order", "order_confirmed"])
    assert (ended.disposition, ended.end_reason) == (Call.Disposition.ANSWERED, "bot_ended")
    assert [turn.text for turn in result.customer_turns] == ["yes please"]
    assert len(result.bot_turns) == 2
    assert result.hung_up_by == "bot"
