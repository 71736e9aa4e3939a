"""Twilio reports a call completed while its stream is still open: the worker stops at once.

The status callback ends the call record (answered, `provider_completed`) and tells the
worker through the call's control list; the worker ends the pipeline, closes the stream
without asking Twilio to hang up a call it has finished, and the record stays as the
callback wrote it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call
from telephony.providers.simulator.persona import PERSONAS
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, idle_workers
from tests.e2e.test_keypad import KEYPAD_DEFINITION
from tests.e2e.test_transfers import _call_on_twilio, _converse, twilio_api  # noqa: F401
from tests.processes import wait_for
from tests.telephony.providers import test_twilio

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


def test_a_call_twilio_completes_under_a_running_worker_ends_at_once(
    twilio_api: HTTPServer,  # noqa: F811
    stack: Stack,
    tenants: Tenants,
) -> None:
    call = _call_on_twilio(tenants, "line-ended", KEYPAD_DEFINITION)
    outcome: dict[str, Any] = {}
    # cod-silent stays on the line for 25 s: only the worker can end the stream sooner.
    customer = threading.Thread(
        target=lambda: outcome.update(result=_converse(stack, call, PERSONAS["cod-silent"]))
    )
    customer.start()
    wait_for(
        lambda: call.turns.filter(speaker="bot").first(),
        timeout=45,
        what="the bot's greeting",
        log=stack.logs / "voice.log",
    )

    completed_at = time.monotonic()
    status, _ = test_twilio._post_signed(
        Client(),
        f"/telephony/twilio/{call.pk}/status/",
        {"CallSid": test_twilio.CALL_SID, "CallStatus": "completed"},
    )
    customer.join(timeout=30)
    stream_closed_after = time.monotonic() - completed_at

    assert status == 204
    assert not customer.is_alive()
    assert stream_closed_after < 10, stream_closed_after
    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.ANSWERED,
        "provider_completed",
    )
    # The worker closed the stream without a hang-up request (Twilio had ended the call).
    assert [request.method for request, _ in twilio_api.log] == ["POST"]
    wait_for(lambda: True if idle_workers() >= 2 else None, timeout=60, what="the pool to refill")
    call.refresh_from_db()
    assert call.end_reason == "provider_completed"
