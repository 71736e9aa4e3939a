"""Faults with a real Celery worker and Redis: a worker killed mid-delivery, Redis flushed."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from breeze.celery import app as celery_app
from calls.webhooks.events import EventType
from calls.webhooks.examples import EXAMPLE_DATA
from calls.webhooks.models import WebhookAttempt, WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create, webhook_event_emit
from calls.webhooks.tasks import webhook_sweep_task
from tests.calls.webhooks.verify import documented_verify
from tests.conftest import Tenants
from tests.processes import BIN, running, subprocess_env, wait_for

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]
Status = WebhookDelivery.Status
WORKER = [
    str(BIN / "celery"),
    "-A",
    "breeze",
    "worker",
    "--pool",
    "solo",
    "--queues",
    "webhooks",
    "--without-mingle",
    "--without-gossip",
    "--loglevel",
    "INFO",
]


@pytest.fixture
def celery_not_eager() -> Iterator[None]:
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def threaded_receiver() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _emit(merchant_id: int) -> str:
    with transaction.atomic():
        return webhook_event_emit(
            merchant_id=merchant_id,
            event_type=EventType.CALL_COMPLETED,
            data=EXAMPLE_DATA[EventType.CALL_COMPLETED],
        )


def _settled(event_ids: list[str]) -> bool | None:
    statuses = set(
        WebhookDelivery.objects.filter(event_id__in=event_ids).values_list("status", flat=True)
    )
    return True if statuses == {Status.SUCCEEDED} else None


@pytest.mark.usefixtures("celery_not_eager")
def test_a_worker_killed_mid_delivery_is_covered_by_the_sweeper(
    tenants: Tenants, threaded_receiver: HTTPServer, tmp_path: Path
) -> None:
    arrived, release = threading.Event(), threading.Event()

    def first_hangs(request: Request) -> Response:
        arrived.set()
        release.wait(timeout=30)
        return Response("too late")

    threaded_receiver.expect_ordered_request("/hook").respond_with_handler(first_hangs)
    threaded_receiver.expect_ordered_request("/hook").respond_with_data("ok")
    _, secret = webhook_endpoint_create(
        merchant_id=tenants.acme.pk, url=threaded_receiver.url_for("/hook")
    )
    env = subprocess_env(WEBHOOK_DELIVERY_LEASE_SECONDS="3")

    event_id = _emit(tenants.acme.pk)
    with running(WORKER, env=env, log=tmp_path / "first.log") as first:
        wait_for(
            lambda: True if arrived.is_set() else None,
            timeout=60,
            what="the first attempt to reach the receiver",
            log=tmp_path / "first.log",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    release.set()
    stranded = WebhookDelivery.objects.get(event_id=event_id)
    assert stranded.lease_expires_at is not None
    time.sleep(max(0.0, (stranded.lease_expires_at - timezone.now()).total_seconds()) + 0.1)
    with running(WORKER, env=env, log=tmp_path / "second.log"):
        webhook_sweep_task.delay()
        wait_for(
            lambda: _settled([event_id]),
            timeout=60,
            what="the sweeper to hand the delivery to the second worker",
            log=tmp_path / "second.log",
        )

    delivered = WebhookDelivery.objects.get(event_id=event_id)
    requests = [request for request, _ in threaded_receiver.log]
    assert (stranded.status, stranded.attempts) == (Status.DELIVERING, 1)
    assert (delivered.status, delivered.attempts) == (Status.SUCCEEDED, 2)
    assert list(
        WebhookAttempt.objects.filter(delivery=delivered).values_list("status_code", "error")
    ) == [(None, "no result: the worker was lost mid-delivery"), (200, "")]
    assert [r.headers["Breeze-Event-Id"] for r in requests] == [event_id, event_id]
    assert documented_verify()(secret, requests[1].headers, requests[1].get_data())


@pytest.mark.usefixtures("celery_not_eager")
def test_deliveries_queued_in_a_flushed_redis_are_recovered_from_postgresql(
    tenants: Tenants, threaded_receiver: HTTPServer, tmp_path: Path
) -> None:
    threaded_receiver.expect_request("/hook").respond_with_data("ok")
    webhook_endpoint_create(merchant_id=tenants.acme.pk, url=threaded_receiver.url_for("/hook"))
    client = redis.Redis.from_url(settings.REDIS_URL)
    event_ids = [_emit(tenants.acme.pk) for _ in range(3)]
    queued = client.llen("webhooks")
    client.flushdb()

    env = subprocess_env(WEBHOOK_SWEEP_GRACE_SECONDS="0")
    with running(WORKER, env=env, log=tmp_path / "worker.log"):
        webhook_sweep_task.delay()
        wait_for(
            lambda: _settled(event_ids),
            timeout=60,
            what="the sweeper to recover the flushed deliveries",
            log=tmp_path / "worker.log",
        )

    received = sorted(request.headers["Breeze-Event-Id"] for request, _ in threaded_receiver.log)
    assert queued == 3
    assert received == sorted(event_ids)
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
