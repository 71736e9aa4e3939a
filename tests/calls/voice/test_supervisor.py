"""The supervisor's reconciler: a call whose worker stopped renewing its liveness ends."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from calls.models import Call
from calls.services import call_mark_in_progress
from calls.voice import pool
from calls.voice.supervisor import PoolSupervisor

# The supervisor closes stale database connections between loops, as a long-running process
# must, so these tests cannot run inside one rolled-back transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client() -> redis.Redis:
    connection = redis.Redis.from_url(settings.REDIS_URL)
    for key in connection.scan_iter(f"{pool.PREFIX}*"):
        connection.delete(key)
    return connection


def test_a_silent_remote_worker_fails_its_call_on_the_second_look(
    call: Call, client: redis.Redis
) -> None:
    call_mark_in_progress(call_id=call.pk, worker_id="remote-1")
    supervisor = PoolSupervisor(size=0)

    supervisor._reconcile(client)
    after_one_look = Call.objects.get(pk=call.pk).status
    supervisor._reconcile(client)

    ended = Call.objects.get(pk=call.pk)
    assert after_one_look == Call.Status.IN_PROGRESS
    assert (ended.status, ended.disposition, ended.end_reason) == (
        Call.Status.ENDED,
        "failed",
        "worker_crashed",
    )


def test_a_worker_that_renews_its_liveness_keeps_its_call(call: Call, client: redis.Redis) -> None:
    call_mark_in_progress(call_id=call.pk, worker_id="remote-2")
    client.set(f"{pool.PREFIX}alive:remote-2", "1", ex=pool.ALIVE_SECONDS)
    supervisor = PoolSupervisor(size=0)

    supervisor._reconcile(client)
    supervisor._reconcile(client)

    assert Call.objects.get(pk=call.pk).status == Call.Status.IN_PROGRESS


def test_busy_workers_are_read_in_one_round_trip(client: redis.Redis) -> None:
    supervisor = PoolSupervisor(size=0)
    supervisor.children = {"a": None, "b": None, "c": None}  # type: ignore[dict-item]
    client.hset(f"{pool.PREFIX}worker:a", "state", "busy")
    client.hset(f"{pool.PREFIX}worker:b", "state", "idle")
    client.hset(f"{pool.PREFIX}worker:c", "state", "claimed")

    assert supervisor._busy_workers(client) == {"a", "c"}
