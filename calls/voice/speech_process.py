"""The voice pool's speech server process: started first, restarted if it dies, stopped last.

One per pool (per host), holding the offline models for its workers
(docs/adr/0002-shared-speech-server.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from calls.voice.forked import die_with_parent
from calls.voice.speech.registry import SPEECH_SERVER_ENV
from calls.voice.speech.shared.client import speech_server_answers

logger = logging.getLogger(__name__)

START_SECONDS = 60.0
# A server that keeps dying (a broken model install) is retried this often, not in a loop.
RETRY_SECONDS = 5.0


def _private_socket_path() -> str:
    # A directory only this user can enter: the socket answers anyone who can reach it.
    return str(Path(tempfile.mkdtemp(prefix="breeze-speech-")) / "speech.sock")


@dataclass
class SpeechServerProcess:
    python: str
    manage: Path
    socket_path: str = field(default_factory=_private_socket_path)
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0

    def start(self) -> None:
        """Start the server and tell this process's future workers where it listens."""
        os.environ[SPEECH_SERVER_ENV] = self.socket_path  # forked or started afresh
        self.started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [self.python, str(self.manage), "run_speech_server", "--socket", self.socket_path],
            preexec_fn=die_with_parent,  # noqa: PLW1509 - the supervisor runs no threads
        )

    def wait_until_answering(self) -> None:
        assert self.process is not None
        while not speech_server_answers(self.socket_path):
            waited = time.monotonic() - self.started
            if self.process.poll() is not None or waited > START_SECONDS:
                self.process.kill()
                raise RuntimeError(f"speech server did not start at {self.socket_path}")
            time.sleep(0.05)
        logger.info("voice pool: speech server ready in %.2fs", time.monotonic() - self.started)

    def restart_if_dead(self) -> None:
        # Not waited for: the supervisor goes on reaping and refilling, and a worker's request
        # in the next second or two fails that one turn.
        if self.process is None or self.process.poll() is None:
            return
        if time.monotonic() - self.started < RETRY_SECONDS:
            return
        logger.error("voice pool: speech server died (exit %s)", self.process.returncode)
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait()
        shutil.rmtree(Path(self.socket_path).parent, ignore_errors=True)
