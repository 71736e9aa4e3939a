"""Post-call extraction on a real call: the worker's transcript, read by the rules engine after
the call ends, reaches the merchant in call.completed."""

from __future__ import annotations

import asyncio
import json
import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from calls.models import Call
from calls.webhooks.services import webhook_endpoint_create
from telephony.providers.simulator.persona import PERSONAS
from templates_app.demo import demo_definition
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS
from tests.e2e.conftest import Stack, new_call, place, published_template
from tests.processes import wait_for

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

EXTRACTION = {
    "fields": [
        {"name": "delivery_date", "type": "date", "description": "The new delivery date"},
        {
            "name": "accepts_delivery_today",
            "type": "boolean",
            "description": "Whether the customer accepts delivery today",
        },
        {"name": "floor", "type": "integer", "description": "The floor of the address"},
    ]
}


def test_a_rescheduled_call_reports_the_extracted_date_in_call_completed(
    stack: Stack, tenants: Tenants, httpserver: HTTPServer
) -> None:
    definition = {**demo_definition("order-confirmation"), "extraction": EXTRACTION}
    merchant = tenants.acme
    version = published_template(merchant, "order-extraction", definition)
    received: list[dict[str, Any]] = []

    def receive(request: Request) -> Response:
        received.append(json.loads(request.data))
        return Response(status=204)

    httpserver.expect_request("/hooks", method="POST").respond_with_handler(receive)
    webhook_endpoint_create(
        merchant_id=merchant.pk, url=httpserver.url_for("/hooks"), event_types=["call.completed"]
    )
    row = new_call(version, payload=DEMO_PAYLOADS["order-confirmation"])

    asyncio.run(place(stack, row, PERSONAS["cod-reschedule"]))
    wait_for(lambda: received or None, timeout=20, what="call.completed")

    call = Call.objects.get(pk=row.pk)
    report = (call.outcome, call.end_reason, call.node_path, list(call.turns.values_list("text")))
    assert call.outcome == "rescheduled", report
    customer = call.turns.filter(speaker="customer").order_by("index")
    assert [turn.text for turn in customer] == ["not today", "tomorrow"]
    assert call.answered_at is not None
    # "Tomorrow" is the day after the merchant's local date when the customer said it.
    said = (
        call.answered_at + timedelta(milliseconds=customer[1].started_offset_ms or 0)
    ).astimezone(zoneinfo.ZoneInfo(merchant.time_zone))
    expected = {
        "delivery_date": (said.date() + timedelta(days=1)).isoformat(),
        "accepts_delivery_today": False,
        "floor": None,
    }
    [event] = received
    assert event["data"]["call_id"] == row.pk
    assert event["data"]["extraction"] == {
        "status": "done",
        "source": "rules",
        "fields": expected,
        "errors": [],
    }
