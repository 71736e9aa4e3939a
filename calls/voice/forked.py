"""Call workers forked from the supervisor's preloaded process instead of started afresh.

A fresh `run_call_worker` process imports Django, Pipecat and the speech stack and loads the
offline models itself: seconds of CPU and about 400 MB of private memory per worker. The
supervisor loads all of that once and forks each worker from itself, so a worker is ready in
milliseconds and shares the imported code and the model weights with its siblings
copy-on-write; only what a call writes becomes its own.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import signal
import subprocess
import time

from django.db import connections

from calls.voice.speech import registry

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """Have the kernel send this process SIGTERM when the supervisor dies, even by SIGKILL.

    An idle worker then leaves and a worker in a call finishes it (their SIGTERM handling),
    and the speech server stops: none is left orphaned, holding memory and, for idle
    workers, registered in Redis as ready for calls no supervisor will account for.
    """
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def preload() -> None:
    """Import the worker and load the offline models once, in the supervisor."""
    from calls.voice import worker  # noqa: F401 - imported for its side effect: the whole stack

    registry.warm_up()
    # Out of the garbage collector's sight: a collection in a worker would otherwise walk
    # every inherited object, writing to each one's header (copying its page from the
    # supervisor) and stalling the call for tens of milliseconds (docs/benchmarks.md).
    gc.freeze()


class ForkedWorker:
    """A forked worker with the part of `subprocess.Popen` the supervisor uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"call worker {self.pid}", timeout)
            time.sleep(0.05)
        return code


def fork_worker(worker_id: str) -> ForkedWorker:
    # A database connection open at the fork would be shared by two processes speaking one
    # protocol stream; each side opens its own instead.
    connections.close_all()
    pid = os.fork()
    if pid:
        return ForkedWorker(pid)
    code = 1
    try:
        _run_child(worker_id)
        code = 0
    except BaseException:
        logger.exception("call worker %s failed", worker_id)
    finally:
        logging.shutdown()
        os._exit(code)


def _run_child(worker_id: str) -> None:
    from calls.voice.worker import CallWorker

    gc.freeze()  # what the supervisor made since the preload, as above
    die_with_parent()
    # The supervisor's handlers stop the supervisor; the worker installs its own.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    asyncio.run(CallWorker(worker_id=worker_id).run())
