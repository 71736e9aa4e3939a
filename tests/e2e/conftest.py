"""A real stack for end-to-end calls: Daphne and the voice pool as separate processes."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings

from calls.voice import pool
from tests.calls.conftest import call, published  # noqa: F401 - shared fixtures
from tests.conftest import free_port
from tests.processes import BIN, running, subprocess_env, wait_for

POOL_SIZE = 2


@dataclass(frozen=True)
class Stack:
    base_url: str
    logs: Path


def _healthy(url: str) -> bool | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return True if response.status == 200 else None
    except OSError:
        return None


def idle_workers() -> int:
    return pool.pool_idle_count(redis.Redis.from_url(settings.REDIS_URL))


@pytest.fixture
def stack(transactional_db: None, tmp_path: Path) -> Iterator[Stack]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{pool.PREFIX}*"):
        client.delete(key)
    port = free_port()
    env = subprocess_env()
    web = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "breeze.asgi:application"]
    voice = [str(BIN / "python"), "manage.py", "run_voice_pool", "--size", str(POOL_SIZE)]
    with (
        running(web, env=env, log=tmp_path / "web.log"),
        running(voice, env=env, log=tmp_path / "voice.log"),
    ):
        wait_for(
            lambda: _healthy(f"http://127.0.0.1:{port}/healthz"),
            timeout=30,
            what="daphne",
            log=tmp_path / "web.log",
        )
        wait_for(
            lambda: True if idle_workers() >= POOL_SIZE else None,
            timeout=90,
            what="the voice pool to warm up",
            log=tmp_path / "voice.log",
        )
        yield Stack(base_url=f"http://127.0.0.1:{port}", logs=tmp_path)
