"""The sandbox's one HTTP server: every vendor's API under its own prefix, plus its own views.

- /twilio/2010-04-01/…: Twilio (TWILIO_API_BASE_URL = <sandbox>/twilio)
- /plivo/v1/…: Plivo (PLIVO_API_BASE_URL = <sandbox>/plivo)
- /exotel/v1/…: Exotel (EXOTEL_API_BASE_URL = <sandbox>/exotel)
- /daily/v1/…: Daily (DAILY_API_BASE_URL = <sandbox>/daily/v1)
- /sandbox/calls: every call placed so far, what was sent to Breeze and how it answered
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from telephony.sandbox import daily, exotel, plivo, twilio
from telephony.sandbox.engine import Sandbox, SandboxConfig
from telephony.sandbox.numbers import MAGIC_NUMBERS
from telephony.sandbox.web import SANDBOX_KEY, json_answer, sandbox_of

logger = logging.getLogger(__name__)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _calls(request: web.Request) -> web.Response:
    calls = sandbox_of(request).calls.values()
    return json_answer({"calls": [call.summary() for call in calls]})


async def _call(request: web.Request) -> web.Response:
    call = sandbox_of(request).calls.get(request.match_info["sid"])
    if call is None:
        return json_answer({"error": "no such call"}, status=404)
    return json_answer(call.summary())


async def _numbers(request: web.Request) -> web.Response:
    return json_answer({number: str(fate) for number, fate in MAGIC_NUMBERS.items()})


def sandbox_app(config: SandboxConfig) -> web.Application:
    app = web.Application()
    app[SANDBOX_KEY] = Sandbox(config)
    app[daily.ROOMS_KEY] = daily.DailyRooms()

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        yield
        await app[SANDBOX_KEY].close()

    app.cleanup_ctx.append(lifetime)
    app.add_routes(
        [
            web.get("/healthz", _healthz),
            web.get("/sandbox/calls", _calls),
            web.get("/sandbox/calls/{sid}", _call),
            web.get("/sandbox/numbers", _numbers),
            *twilio.routes(),
            *plivo.routes(),
            *exotel.routes(),
            *daily.routes(),
        ]
    )
    return app


async def sandbox_serve(config: SandboxConfig, *, host: str, port: int) -> None:
    """Serve until cancelled."""
    runner = web.AppRunner(sandbox_app(config), access_log=logger)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
