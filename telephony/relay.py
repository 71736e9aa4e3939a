"""The consumer's side of the media relay: one websocket to the call's worker.

Kept behind this small interface so that workers on other hosts (pods) need only another
address; see docs/adr/0001-media-relay.md for why a loopback websocket.
"""

from __future__ import annotations

import json

from websockets.asyncio.client import ClientConnection, connect

CONNECT_TIMEOUT_SECONDS = 5


async def worker_link_open(*, address: str, call_id: int, provider: str) -> ClientConnection:
    """Connect to a claimed worker and assign it the call; provider messages follow unchanged."""
    link = await connect(
        address, open_timeout=CONNECT_TIMEOUT_SECONDS, compression=None, max_size=256 * 1024
    )
    await link.send(json.dumps({"type": "breeze.assign", "call_id": call_id, "provider": provider}))
    return link
