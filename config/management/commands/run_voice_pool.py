"""The voice worker pool: a supervisor of pre-warmed call workers.

The call workers arrive with the voice engine; until then the pool runs empty, reports its
liveness and stops cleanly on SIGINT/SIGTERM, so `make run` and deployments already manage
it as one of the stack's processes.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from config.services import service_heartbeat_record

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0


class Command(BaseCommand):
    help = "Run the voice worker pool supervisor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", type=int, default=2, help="idle workers to keep warm")

    def handle(self, *args: Any, size: int, **options: Any) -> None:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            logger.info("voice pool: received %s, stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        logger.info("voice pool: started, target size %d, 0 call workers available yet", size)
        while not stop.is_set():
            service_heartbeat_record(name="voice-pool", detail={"target_size": size, "idle": 0})
            stop.wait(HEARTBEAT_SECONDS)
        logger.info("voice pool: stopped")
