from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from calls.voice.speech.shared.server import serve


class Command(BaseCommand):
    help = (
        "Hold the offline speech models (pocketsphinx, Piper) for every call worker on this "
        "host and answer them on a Unix socket. The voice pool starts one itself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--socket", required=True, help="path of the Unix socket to serve")

    def handle(self, *args: Any, socket: str, **options: Any) -> None:
        serve(socket)
