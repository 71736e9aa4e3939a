from __future__ import annotations

import asyncio
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from calls.voice.worker import CallWorker


class Command(BaseCommand):
    help = "Run one warm call worker: load everything, serve one call, exit (started by run_voice_pool)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--worker-id", default="", help="defaults to a random id")
        parser.add_argument("--host", default="127.0.0.1", help="address the relay connects to")

    def handle(self, *args: Any, worker_id: str, host: str, **options: Any) -> None:
        asyncio.run(CallWorker(worker_id=worker_id or uuid.uuid4().hex[:12], host=host).run())
