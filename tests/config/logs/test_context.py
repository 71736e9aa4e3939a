from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from typing import cast

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.test import Client

from breeze.celery import app as celery_app
from config.logs import context
from config.logs.middleware import HEADER
from tests.log_capture import LogLines


def test_bound_ids_are_added_and_restored() -> None:
    with context.bound(merchant_id=3, lead_id=None):
        with context.bound(call_id=7):
            assert dict(context.current()) == {"merchant_id": "3", "call_id": "7"}
        assert dict(context.current()) == {"merchant_id": "3"}
    assert dict(context.current()) == {}


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown log context fields: \['phone'\]"):
        context.bind(phone="+14155550134")


async def test_asyncio_tasks_keep_their_own_ids() -> None:
    async def one(call_id: int) -> dict[str, str]:
        context.bind(call_id=call_id)
        await asyncio.sleep(0)
        return dict(context.current())

    with context.bound(worker_id="w1"):
        results = await asyncio.gather(one(1), one(2))
    assert list(results) == [
        {"worker_id": "w1", "call_id": "1"},
        {"worker_id": "w1", "call_id": "2"},
    ]


@pytest.mark.django_db
def test_request_id_is_honoured_echoed_and_logged(client: Client, log_lines: LogLines) -> None:
    response = client.get("/no-such-page", headers={HEADER: "edge-7f3a.42"})

    assert response.status_code == 404
    assert response[HEADER] == "edge-7f3a.42"
    (line,) = log_lines()
    assert line["message"] == "Not Found: /no-such-page"
    assert line["request_id"] == "edge-7f3a.42"
    assert dict(context.current()) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", [None, "", "two words", "x" * 129, 'a"}, "level": "x'])
def test_a_missing_or_unsafe_request_id_is_replaced(client: Client, incoming: str | None) -> None:
    headers = {} if incoming is None else {HEADER: incoming}
    first = client.get("/healthz", headers=headers)[HEADER]
    second = client.get("/healthz", headers=headers)[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


@celery_app.task(name="tests.config.logs.record_context")
def record_context(call_id: int, note: str) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.rpush("tests:log_context", json.dumps(dict(context.current())))


@pytest.fixture
def real_worker() -> Iterator[None]:
    redis.Redis.from_url(settings.REDIS_URL).delete("tests:log_context")
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        celery_app.conf.task_always_eager = True


def _recorded(count: int) -> list[dict[str, str]]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    recorded = []
    for _ in range(count):
        popped = cast("tuple[bytes, bytes] | None", client.blpop(["tests:log_context"], 15))
        assert popped is not None, "the worker did not run the task"
        recorded.append(json.loads(popped[1]))
    return recorded


@pytest.mark.usefixtures("real_worker")
def test_task_headers_carry_the_ids_into_the_worker() -> None:
    with context.bound(request_id="req-1", merchant_id=4, lead_id=11, task_id="caller-task"):
        sent = record_context.delay(99, "first")
    # Published outside any context: the worker must not keep the first task's ids.
    second = record_context.apply_async(kwargs={"call_id": 100, "note": "second"})

    first_ids, second_ids = _recorded(2)
    assert first_ids == {
        "request_id": "req-1",
        "merchant_id": "4",
        "lead_id": "11",
        "call_id": "99",
        "task_id": sent.id,
        "task_name": "tests.config.logs.record_context",
    }
    assert second_ids == {
        "call_id": "100",
        "task_id": second.id,
        "task_name": "tests.config.logs.record_context",
    }
    assert threading.current_thread() is threading.main_thread()
    assert dict(context.current()) == {}


def test_eager_tasks_keep_the_callers_ids() -> None:
    redis.Redis.from_url(settings.REDIS_URL).delete("tests:log_context")
    with context.bound(request_id="req-2", merchant_id=5):
        sent = record_context.delay(7, "eager")
        assert dict(context.current()) == {"request_id": "req-2", "merchant_id": "5"}
    (ids,) = _recorded(1)
    assert ids == {
        "request_id": "req-2",
        "merchant_id": "5",
        "call_id": "7",
        "task_id": sent.id,
        "task_name": "tests.config.logs.record_context",
    }
