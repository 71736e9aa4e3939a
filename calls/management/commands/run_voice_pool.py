from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from calls.voice.supervisor import PoolSupervisor


class Command(BaseCommand):
    help = (
        "Keep a pool of warm call workers (one call per process) and replace them as they finish."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", type=int, default=2, help="idle workers to keep warm")
        parser.add_argument(
            "--fresh-processes",
            action="store_true",
            help="start each worker as a new process instead of forking the preloaded pool",
        )

        parser.add_argument(
            "--in-process-speech",
            action="store_true",
            help="load the offline speech models into every worker instead of one speech server",
        )

    def handle(
        self, *args: Any, size: int, fresh_processes: bool, in_process_speech: bool, **options: Any
    ) -> None:
        PoolSupervisor(
            size=size, fork=not fresh_processes, speech_server=not in_process_speech
        ).run()
