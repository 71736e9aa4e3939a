"""The stack's processes, started for real: Daphne, a Celery worker, the voice pool."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest
import redis
from django.conf import settings
from websockets.sync.client import connect

from breeze.celery import app as celery_app
from calls.voice import pool
from calls.voice.speech.shared.client import speech_server_answers
from config.models import ServiceHeartbeat
from config.tasks import service_heartbeat
from tests.conftest import free_port
from tests.processes import BIN, running, subprocess_env, wait_for

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def _http_get(url: str) -> tuple[int, bytes] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except OSError:
        return None


def test_daphne_serves_http_and_a_websocket_through_channels_routing(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "daphne.log"
    args = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "breeze.asgi:application"]

    with running(args, env=subprocess_env(), log=log):
        status, body = wait_for(
            lambda: _http_get(f"http://127.0.0.1:{port}/readyz"), timeout=30, what="daphne", log=log
        )
        with connect(f"ws://127.0.0.1:{port}/ws/healthz/", open_timeout=5) as websocket:
            greeting = json.loads(websocket.recv(timeout=5))

    assert (status, json.loads(body)["status"]) == (200, "ok")
    assert greeting == {"status": "ok"}


@pytest.fixture
def celery_not_eager() -> Iterator[None]:
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@pytest.mark.usefixtures("celery_not_eager")
def test_a_real_celery_worker_runs_a_task_from_redis_against_postgresql(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    args = [
        str(BIN / "celery"),
        "-A",
        "breeze",
        "worker",
        "--pool",
        "solo",
        "--queues",
        "default",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "INFO",
    ]

    with running(args, env=subprocess_env(), log=log):
        service_heartbeat.apply_async(args=("pytest-worker",), queue="default")
        heartbeat = wait_for(
            lambda: ServiceHeartbeat.objects.filter(name="pytest-worker").first(),
            timeout=60,
            what="the worker to record a heartbeat",
            log=log,
        )

    assert heartbeat.detail["host"]
    assert "Task config.tasks.service_heartbeat" in log.read_text()


def _empty_pool_registry() -> redis.Redis:
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{pool.PREFIX}*"):
        client.delete(key)
    return client


@contextmanager
def _voice_pool(log: Path, *options: str) -> Iterator[tuple[subprocess.Popen[bytes], redis.Redis]]:
    """`run_voice_pool --size 1`, once its worker is warm; stopped (SIGTERM) after the block."""
    client = _empty_pool_registry()
    args = [str(BIN / "python"), "manage.py", "run_voice_pool", "--size", "1", *options]
    with running(args, env=subprocess_env(), log=log) as process:
        wait_for(
            lambda: True if pool.pool_idle_count(client) == 1 else None,
            timeout=60,
            what="a warm worker",
            log=log,
        )
        yield process, client


@pytest.mark.parametrize("start", [[], ["--fresh-processes"]], ids=["forked", "fresh"])
def test_voice_pool_warms_workers_reports_and_stops_cleanly_on_sigterm(
    tmp_path: Path, start: list[str]
) -> None:
    log = tmp_path / "voice.log"

    with _voice_pool(log, *start) as (process, client):
        heartbeat = wait_for(
            lambda: ServiceHeartbeat.objects.filter(name="voice-pool").first(),
            timeout=30,
            what="the voice pool heartbeat",
            log=log,
        )
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=30)

    assert heartbeat.detail["target_size"] == 1
    assert exit_code == 0
    assert "voice pool: stopped" in log.read_text()
    mode = "fresh processes" if start else "forked"
    assert f"voice pool: keeping 1 warm workers ({mode})" in log.read_text()
    assert pool.pool_idle_count(client) == 0


def _speech_server_of(supervisor: int) -> psutil.Process | None:
    for child in psutil.Process(supervisor).children():
        try:
            if "run_speech_server" in child.cmdline():
                return child
        except psutil.NoSuchProcess:
            continue
    return None


def test_the_voice_pool_restarts_its_speech_server_and_removes_it_at_stop(tmp_path: Path) -> None:
    log = tmp_path / "voice.log"

    with _voice_pool(log) as (process, _client):
        first = _speech_server_of(process.pid)
        assert first is not None
        socket_path = first.cmdline()[-1]
        first.kill()
        second = wait_for(
            lambda: s if (s := _speech_server_of(process.pid)) and s.pid != first.pid else None,
            timeout=30,
            what="a new speech server",
            log=log,
        )
        second_socket = second.cmdline()[-1]
        answers_again = wait_for(
            lambda: True if speech_server_answers(socket_path) else None,
            timeout=60,
            what="the new speech server's answer",
            log=log,
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    assert answers_again
    assert second_socket == socket_path
    assert "voice pool: speech server died (exit -9)" in log.read_text()
    assert not second.is_running()
    assert not Path(socket_path).parent.exists()


@pytest.mark.parametrize("start", [[], ["--fresh-processes"]], ids=["forked", "fresh"])
def test_a_voice_pool_killed_outright_takes_its_idle_workers_and_speech_server_with_it(
    tmp_path: Path, start: list[str]
) -> None:
    log = tmp_path / "voice.log"

    with _voice_pool(log, *start) as (process, _client):
        children = psutil.Process(process.pid).children()
        process.kill()
        process.wait(timeout=10)
        all_stopped = wait_for(
            lambda: True if not any(child.is_running() for child in children) else None,
            timeout=10,
            what="the orphaned worker and speech server to stop",
            log=log,
        )

    assert len(children) == 2  # the idle worker and the speech server
    assert all_stopped
