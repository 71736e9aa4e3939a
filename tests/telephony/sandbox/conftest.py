from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest

from telephony.sandbox.engine import SandboxConfig
from telephony.sandbox.server import sandbox_serve
from tests.conftest import free_port
from tests.e2e.conftest import healthy
from tests.leads.conftest import api, order_template  # noqa: F401 - fixtures
from tests.processes import wait_for


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """The provider sandbox served from a thread of this process (its REST APIs need no Breeze)."""
    port = free_port()
    loop = asyncio.new_event_loop()
    config = SandboxConfig(breeze_url="http://127.0.0.1:9", ring_seconds=1.0, step_seconds=0)

    async def serve() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await sandbox_serve(config, host="127.0.0.1", port=port)

    serving = loop.create_task(serve())
    thread = threading.Thread(target=loop.run_until_complete, args=(serving,), daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(f"{root}/healthz"), timeout=10, what="the sandbox")
        yield root
    finally:
        loop.call_soon_threadsafe(serving.cancel)
        thread.join(timeout=10)
        loop.close()
