"""Start real Breeze processes (Daphne, Celery, management commands) against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.db import connection

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def subprocess_env(**overrides: str) -> dict[str, str]:
    """Environment for a child process that uses this test run's database and Redis."""
    params = connection.settings_dict
    database_url = (
        f"postgres://{params['USER']}:{params['PASSWORD'] or ''}@{params['HOST'] or '127.0.0.1'}"
        f":{params['PORT'] or 5432}/{params['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "breeze.settings.test",
        "DATABASE_URL": database_url,
        "TEST_REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


@contextmanager
def running(
    args: list[str], *, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a process for the duration of the block, then stop it with SIGTERM (SIGKILL if stuck)."""
    with log.open("wb") as output:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_for(
    probe: Callable[[], T | None], *, timeout: float, what: str, log: Path | None = None
) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result is not None:
            return result
        time.sleep(0.2)
    detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{detail}")
