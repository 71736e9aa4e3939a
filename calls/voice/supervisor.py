"""The voice pool supervisor: N warm call workers always idle, and no call left behind.

It replaces each worker that leaves and ends the calls of workers that died.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

import redis
from django.conf import settings
from django.db import close_old_connections

from calls.models import Call
from calls.selectors import call_list_unfinished_on_workers
from calls.services import call_end
from calls.voice import pool
from calls.voice.forked import die_with_parent, fork_worker, preload
from calls.voice.speech_process import SpeechServerProcess
from config.services import service_heartbeat_record

logger = logging.getLogger(__name__)

LOOP_SECONDS = 0.1
RECONCILE_SECONDS = 2.0
HEARTBEAT_RECORD_SECONDS = 30.0
STOP_GRACE_SECONDS = 120.0


class WorkerProcess(Protocol):
    """What the supervisor needs of a worker: a `subprocess.Popen` or a `ForkedWorker`."""

    def poll(self) -> int | None: ...
    def send_signal(self, signum: int) -> None: ...
    def wait(self, timeout: float) -> int: ...
    def kill(self) -> None: ...


@dataclass
class PoolSupervisor:
    size: int
    # Fork workers from this process's preloaded copy (forked.py); False starts each worker as
    # a fresh `run_call_worker` process, which needs no preloading here.
    fork: bool = True
    # One process holds the offline speech models for all workers (speech/shared/); False
    # loads them into every worker, as before it existed.
    speech_server: bool = True
    python: str = sys.executable
    manage: Path = field(default_factory=lambda: Path(settings.BASE_DIR) / "manage.py")
    children: dict[str, WorkerProcess] = field(default_factory=dict)
    stopping: bool = False
    spawned: int = 0
    crashed: int = 0
    _suspects: set[str] = field(default_factory=set)
    _speech: SpeechServerProcess | None = None

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self._supervise()
        finally:
            # Also when starting failed: no speech server or worker is left behind.
            self._shutdown()

    def _supervise(self) -> None:
        if self.speech_server:
            self._speech = SpeechServerProcess(python=self.python, manage=self.manage)
            self._speech.start()
            self._speech.wait_until_answering()
        if self.fork:
            started = time.monotonic()
            preload()
            logger.info("voice pool: preloaded in %.2fs", time.monotonic() - started)
        client = pool.sync_client()
        logger.info(
            "voice pool: keeping %d warm workers (%s)",
            self.size,
            "forked" if self.fork else "fresh processes",
        )
        last_reconcile = last_record = 0.0
        while not self.stopping:
            self._reap()
            if self._speech is not None and not self.stopping:
                self._speech.restart_if_dead()
            busy = self._busy_workers(client)
            while len(self.children) - len(busy) < self.size and not self.stopping:
                self._spawn()
            while client.lpop(pool.SPAWN) is not None:
                logger.warning("voice pool: empty when a call arrived; starting an extra worker")
                self._spawn()
            now = time.monotonic()
            if now - last_reconcile > RECONCILE_SECONDS:
                self._reconcile(client)
                last_reconcile = now
            if now - last_record > HEARTBEAT_RECORD_SECONDS:
                self._record(client, busy)
                last_record = now
            time.sleep(LOOP_SECONDS)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        logger.info("voice pool: %s received, stopping", signal.Signals(signum).name)
        self.stopping = True

    def _spawn(self) -> str:
        worker_id = uuid.uuid4().hex[:12]
        self.children[worker_id] = (
            fork_worker(worker_id)
            if self.fork
            else subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                [self.python, str(self.manage), "run_call_worker", "--worker-id", worker_id],
                preexec_fn=die_with_parent,  # noqa: PLW1509 - the supervisor runs no threads
            )
        )
        self.spawned += 1
        return worker_id

    def _busy_workers(self, client: redis.Redis) -> set[str]:
        # Asked ten times a second: one round trip for all children, not one per child.
        worker_ids = list(self.children)
        with client.pipeline(transaction=False) as pipe:
            for worker_id in worker_ids:
                pipe.hget(f"{pool.PREFIX}worker:{worker_id}", "state")
            states = pipe.execute()
        return {
            worker_id
            for worker_id, state in zip(worker_ids, states, strict=True)
            if state in {b"busy", b"claimed"}
        }

    def _reap(self) -> None:
        for worker_id, process in list(self.children.items()):
            code = process.poll()
            if code is None:
                continue
            del self.children[worker_id]
            if code != 0:
                self.crashed += 1
                logger.error("voice pool: worker %s died (exit %s)", worker_id, code)
            self._fail_calls_of({worker_id})

    def _fail_calls_of(self, worker_ids: set[str]) -> None:
        close_old_connections()
        for call_id in call_list_unfinished_on_workers(worker_ids=worker_ids):
            if call_end(
                call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="worker_crashed"
            ):
                logger.error("voice pool: call %s ended because its worker died", call_id)

    def _reconcile(self, client: redis.Redis) -> None:
        """Fail calls whose worker (on any host) stopped renewing its liveness twice running."""
        close_old_connections()
        in_progress = Call.objects.filter(status=Call.Status.IN_PROGRESS).exclude(worker_id="")
        silent = {
            worker_id
            for worker_id in in_progress.values_list("worker_id", flat=True)
            if not pool.worker_is_alive(client, worker_id=worker_id)
        }
        # Twice running: a Redis flush hides liveness for up to one heartbeat.
        confirmed = silent & self._suspects
        self._suspects = silent - confirmed
        if confirmed:
            self._fail_calls_of(confirmed)

    def _record(self, client: redis.Redis, busy: set[str]) -> None:
        close_old_connections()
        service_heartbeat_record(
            name="voice-pool",
            detail={
                "target_size": self.size,
                "workers": len(self.children),
                "busy": len(busy),
                "idle": pool.pool_idle_count(client),
                "spawned": self.spawned,
                "crashed": self.crashed,
            },
        )

    def _shutdown(self) -> None:
        for process in self.children.values():
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.children.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        if self._speech is not None:
            self._speech.stop()
        logger.info("voice pool: stopped")
