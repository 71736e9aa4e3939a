"""The sandbox records its callbacks in the order it sent them, and a call is over only once
Breeze has answered them all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from telephony.sandbox.engine import Sandbox, SandboxCall, SandboxConfig, Vendor
from telephony.sandbox.numbers import Fate
from tests.conftest import free_port

Handler = Callable[[web.Request], Awaitable[web.Response]]


@asynccontextmanager
async def _sandbox_calling(
    routes: dict[str, Handler], *, detection_seconds: float = SandboxConfig.detection_seconds
) -> AsyncIterator[tuple[Sandbox, str]]:
    """A sandbox, and a local server standing in for Breeze's callback endpoints (POST)."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    root = f"http://127.0.0.1:{port}"
    sandbox = Sandbox(SandboxConfig(breeze_url=root, detection_seconds=detection_seconds))
    try:
        yield sandbox, root
    finally:
        await sandbox.close()
        await runner.cleanup()


def _machine_call() -> SandboxCall:
    return SandboxCall(
        provider="twilio",
        sid="CA1",
        account="AC1",
        secret="token",
        to="+15005550777",
        caller="+15005550006",
        fate=Fate.MACHINE,
        placement={},
    )


async def test_a_callback_answered_after_a_later_one_keeps_its_place() -> None:
    # Breeze answers the detection callback only after it hung up through the REST API,
    # which made the vendor send the final status callback meanwhile.
    later_answered = asyncio.Event()

    async def amd(_request: web.Request) -> web.Response:
        await later_answered.wait()
        return web.Response(status=204)

    async def status(_request: web.Request) -> web.Response:
        later_answered.set()
        return web.Response(status=204)

    call = _machine_call()
    async with _sandbox_calling({"/amd": amd, "/status": status}) as (sandbox, root):
        first = asyncio.create_task(
            sandbox.deliver(call, kind="amd", method="POST", url=f"{root}/amd", form={})
        )
        await asyncio.sleep(0.05)
        await sandbox.deliver(call, kind="status:completed", method="POST", url=f"{root}/status")
        call.finished = True
        # The final status is out, but Breeze has not answered the detection callback yet.
        finished_before_answer = call.summary()["finished"]
        await first

    assert [(d.kind, d.status) for d in call.deliveries] == [
        ("amd", 204),
        ("status:completed", 204),
    ]
    assert (finished_before_answer, call.summary()["finished"]) == (False, True)


async def test_the_detection_verdict_is_answered_though_the_stream_ends_meanwhile() -> None:
    # Breeze hangs up through the REST API while it answers the verdict; the stream ends and
    # the sandbox stops listening, but the verdict's request still gets its answer.
    asked, hung_up, answered = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def amd(_request: web.Request) -> web.Response:
        asked.set()
        await hung_up.wait()
        return web.Response(status=204)

    call = _machine_call()
    async with _sandbox_calling({"/amd": amd}, detection_seconds=0) as (sandbox, root):

        class Detecting(Vendor):
            async def machine_verdict(self, call: SandboxCall) -> None:
                await self.sandbox.deliver(
                    call, kind="amd", method="POST", url=f"{root}/amd", form={}
                )
                answered.set()

        listening = asyncio.create_task(sandbox._detect(Detecting(sandbox), call))
        await asyncio.wait_for(asked.wait(), 5)
        listening.cancel()
        hung_up.set()
        await asyncio.wait_for(answered.wait(), 5)

    assert [(d.kind, d.status) for d in call.deliveries] == [("amd", 204)]
