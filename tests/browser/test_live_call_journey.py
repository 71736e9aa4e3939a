"""Watch a simulated call live in the admin, then find it in the dashboard."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from calls.models import Call
from telephony.providers.simulator.persona import PERSONAS
from tests.browser.conftest import log_in
from tests.calls.conftest import call, published  # noqa: F401 - shared fixtures
from tests.e2e.conftest import Stack, place, stack  # noqa: F401 - the stack fixture

pytestmark = [pytest.mark.processes, pytest.mark.e2e, pytest.mark.browser]


def test_watch_a_simulated_call_live_then_see_it_in_the_dashboard(
    stack: Stack,  # noqa: F811
    call: Call,  # noqa: F811
    page: Page,
    merchant_admin: User,
) -> None:
    log_in(page, stack.base_url, merchant_admin)
    page.goto(f"{stack.base_url}/admin/calls/call/{call.pk}/live/")
    expect(page.get_by_test_id("live-call")).to_have_attribute("data-state", "live")

    placed: dict[str, Any] = {}
    # The customer dials from another thread: this one belongs to Playwright's event loop.
    customer = threading.Thread(
        target=lambda: placed.update(
            result=asyncio.run(place(stack, call, PERSONAS["cod-confirm"]))
        )
    )
    customer.start()

    transcript = page.get_by_test_id("live-transcript")
    # A call starts in seconds, but CI runs this beside the rest of the suite on two cores.
    expect(transcript).to_contain_text(
        "Hi Asha, this is Breeze calling on behalf of", timeout=45_000
    )
    expect(page.get_by_test_id("live-node")).to_have_text("order_confirmed", timeout=30_000)
    expect(page.get_by_test_id("live-outcome")).to_contain_text("confirmed")
    customer.join(timeout=60)
    ended, _ = placed["result"]
    assert (ended.outcome, ended.disposition, ended.end_reason) == (
        "confirmed",
        "answered",
        "bot_ended",
    )
    expect(page.get_by_test_id("live-ending")).to_have_text("answered (bot_ended)")
    expect(page.get_by_test_id("live-call")).to_have_attribute("data-state", "ended")

    page.goto(f"{stack.base_url}/admin/dashboard/")
    expect(page.get_by_test_id("chart-answer-rate-value")).to_have_text("100.0%")
    expect(page.get_by_test_id("chart-answer-rate")).to_contain_text(
        "1 of 1 dialled calls answered"
    )
