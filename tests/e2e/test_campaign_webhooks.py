"""Issue 8's "done when": a merchant receiver that follows docs/webhooks.md gets a demo campaign.

The receiver verifies every request with the snippet published in the docs (executed from the
markdown), answers 500 to the first try of each call.completed and 429 with Retry-After to the
first try of each lead.completed, and deduplicates by event id. The events come from the real
stack (the voice pool, Daphne and this process, Celery eager), so a retry is made when the
sweeper finds it due; a thread here plays beat.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import LazySettings
from django.db import connection
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from calls.models import Call
from calls.webhooks.models import WebhookAttempt, WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from calls.webhooks.tasks import webhook_sweep_task
from leads.models import Campaign, Lead
from templates_app.models import TemplateVersion
from tests.calls.webhooks.verify import documented_verify
from tests.e2e.campaign_run import campaign_run
from tests.e2e.conftest import Stack
from tests.processes import wait_for

pytestmark = [pytest.mark.processes, pytest.mark.e2e]
Status = WebhookDelivery.Status
HOOK_PATH = "/hooks/breeze"
# The processes' retry schedule: one second between attempts, no jitter; the sweeper takes
# due deliveries at once (the default 15 s grace is for tasks still queued in Redis).
RETRY_SCHEDULE = [1, 1, 1, 1, 1]


@dataclass
class Merchant:
    """The receiving side: what arrived, what verified, and the events kept after dedup."""

    secret: str = ""
    requests: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    tries: Counter[str] = field(default_factory=Counter)

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        ok = documented_verify()(self.secret, request.headers, body)
        event_id = request.headers["Breeze-Event-Id"]
        event_type = request.headers["Breeze-Event-Type"]
        # pytest-httpserver answers one request at a time, so no lock is needed here.
        self.tries[event_id] += 1
        first_try = self.tries[event_id] == 1
        if first_try and event_type == "call.completed":
            response = Response("busy", status=500)
        elif first_try and event_type == "lead.completed":
            response = Response("slow down", status=429, headers={"Retry-After": "1"})
        else:
            response = Response("ok")
            if ok:
                self.events.setdefault(event_id, json.loads(body))
        self.requests.append((dict(request.headers), body, response.status_code))
        self.verified.append(ok)
        return response


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch, settings: LazySettings) -> None:
    """Before `stack` starts its processes: they read these from the environment."""
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", ",".join(map(str, RETRY_SCHEDULE)))
    monkeypatch.setenv("WEBHOOK_RETRY_JITTER_PERCENT", "0")
    monkeypatch.setenv("WEBHOOK_SWEEP_GRACE_SECONDS", "0")
    settings.WEBHOOK_RETRY_SCHEDULE = RETRY_SCHEDULE
    settings.WEBHOOK_RETRY_JITTER_PERCENT = 0
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0


@pytest.fixture
def beat(transactional_db: None) -> Iterator[list[BaseException]]:
    """The sweeper every half second for the whole test, as beat runs it (every 5 s) in prod.

    Yields the errors it met, so a dead sweeper fails the test instead of stalling it.
    """
    stop, errors = threading.Event(), []

    def sweep() -> None:
        try:
            while not stop.wait(0.5):
                webhook_sweep_task()
        except BaseException as error:  # handed to the test, which fails on it
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=sweep, name="beat", daemon=True)
    thread.start()
    yield errors
    stop.set()
    thread.join(timeout=30)


def settled(errors: list[BaseException]) -> bool | None:
    assert errors == []
    statuses = set(WebhookDelivery.objects.values_list("status", flat=True))
    return True if statuses == {Status.SUCCEEDED} else None


def test_a_merchant_receiver_gets_every_campaign_event_once_after_dedup(
    stack: Stack,
    published: TemplateVersion,
    settings: LazySettings,
    httpserver: HTTPServer,
    beat: list[BaseException],
) -> None:
    merchant = Merchant()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_handler(merchant.handle)
    _, merchant.secret = webhook_endpoint_create(
        merchant_id=published.template.merchant_id, url=httpserver.url_for(HOOK_PATH)
    )

    run = campaign_run(stack, published, settings)
    wait_for(lambda: settled(beat), timeout=60, what="every webhook delivery to succeed")

    assert run.campaign.status == Campaign.Status.COMPLETED
    assert [lead.status for lead in run.leads] == [Lead.Status.COMPLETED] * 2
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    calls = list(Call.objects.filter(lead__in=run.leads).order_by("pk"))
    # Every request, retries included, carries a signature the documented snippet accepts.
    assert len(merchant.verified) == len(merchant.requests)
    assert set(merchant.verified) == {True}
    headers, body, _ = merchant.requests[0]
    verify = documented_verify()
    assert verify(merchant.secret, headers, body) is True
    assert verify(merchant.secret, headers, body.replace(b'"id"', b'"Id"', 1)) is False
    assert verify(merchant.secret, headers, body + b" ") is False
    assert verify("whsec_not-the-secret", headers, body) is False

    # After dedup by event id: each event once, exactly the events Breeze wrote.
    assert sorted(merchant.events) == sorted(d.event_id for d in deliveries)
    assert len({d.event_id for d in deliveries}) == len(deliveries)
    assert Counter(event["type"] for event in merchant.events.values()) == Counter(
        {"call.started": 2, "outcome.updated": 2, "call.completed": 2, "lead.completed": 2}
    )
    assert {event["id"]: event for event in merchant.events.values()} == {
        d.event_id: d.payload for d in deliveries
    }
    assert sorted(
        event["data"]["call_id"]
        for event in merchant.events.values()
        if event["type"] == "call.completed"
    ) == [c.pk for c in calls]
    assert sorted(
        event["data"]["lead_id"]
        for event in merchant.events.values()
        if event["type"] == "lead.completed"
    ) == sorted(lead.pk for lead in run.leads)

    # The faults: one refused try per call.completed and lead.completed, then success.
    assert len(merchant.requests) == len(deliveries) + 4
    assert {d.event_type: d.attempts for d in deliveries} == {
        "call.started": 1,
        "outcome.updated": 1,
        "call.completed": 2,
        "lead.completed": 2,
    }
    attempts = {
        d.event_type: list(
            WebhookAttempt.objects.filter(delivery=d)
            .order_by("number")
            .values_list("status_code", flat=True)
        )
        for d in deliveries
    }
    assert attempts == {
        "call.started": [200],
        "outcome.updated": [200],
        "call.completed": [500, 200],
        "lead.completed": [429, 200],
    }
    for delivery in deliveries:
        tries = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
        for earlier, later in itertools.pairwise(tries):
            # Both the schedule and Retry-After ask for a second between tries; the default
            # schedule's first wait would be at least 4 s (5 s less 20 % jitter).
            assert 1.0 <= (later.started_at - earlier.started_at).total_seconds() < 4.0
