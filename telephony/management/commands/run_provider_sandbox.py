"""Serve the provider sandbox: Twilio, Plivo, Exotel and Daily's APIs on one local port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telephony.providers.simulator.persona import PERSONAS
from telephony.sandbox.engine import SandboxConfig
from telephony.sandbox.numbers import MAGIC_NUMBERS
from telephony.sandbox.server import sandbox_serve


class Command(BaseCommand):
    help = (
        "Run the provider sandbox: local Twilio, Plivo, Exotel and Daily APIs that place calls "
        "into Breeze with signed callbacks and a scripted customer on the media stream."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Where BREEZE_PROVIDER_SANDBOX_URL says Breeze will look for it.
        listen = urlsplit(settings.BREEZE_PROVIDER_SANDBOX_URL)
        parser.add_argument("--host", default=listen.hostname or "127.0.0.1")
        parser.add_argument("--port", type=int, default=listen.port or 8010)
        parser.add_argument(
            "--breeze-url",
            default=settings.PUBLIC_BASE_URL,
            help="where Exotel's flow applets reach Breeze (default: PUBLIC_BASE_URL)",
        )
        parser.add_argument(
            "--persona", default="cod-confirm", choices=sorted(PERSONAS), help="who answers"
        )
        parser.add_argument("--ring-seconds", type=float, default=2.0, help="how long a call rings")
        parser.add_argument(
            "--bridge-seconds",
            type=float,
            default=3.0,
            help="how long a transferred call stays connected to the agent",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        try:
            config = SandboxConfig(
                breeze_url=options["breeze_url"],
                persona=options["persona"],
                ring_seconds=options["ring_seconds"],
                bridge_seconds=options["bridge_seconds"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        root = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            f"Provider sandbox on {root} (Breeze at {config.breeze_url}); point Breeze at it:\n"
            f"  TWILIO_API_BASE_URL={root}/twilio\n"
            f"  PLIVO_API_BASE_URL={root}/plivo\n"
            f"  EXOTEL_API_BASE_URL={root}/exotel\n"
            f"  DAILY_API_BASE_URL={root}/daily/v1\n"
            "Magic numbers: "
            + ", ".join(f"{number} {fate}" for number, fate in MAGIC_NUMBERS.items())
        )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(sandbox_serve(config, host=options["host"], port=options["port"]))
