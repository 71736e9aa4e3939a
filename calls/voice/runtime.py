"""What a live call's flow does to the world.

Outcomes and the node path go to PostgreSQL; node settings go to the running pipeline.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

from calls.services import call_record_node, call_update_outcome
from calls.voice.writer import CallWriter
from templates_app.flows.http import HttpRequest, HttpResult, send_http_request

logger = logging.getLogger(__name__)


class CallRuntime:
    """The `FlowRuntime` of a real call (see templates_app.flows.runtime)."""

    def __init__(
        self,
        *,
        call_id: int,
        time_zone: str,
        writer: CallWriter,
        apply_node_settings: Callable[[str, dict[str, Any]], Awaitable[None]],
    ) -> None:
        self.call_id = call_id
        self.zone = zoneinfo.ZoneInfo(time_zone)
        self.writer = writer
        self.apply_node_settings = apply_node_settings
        self.current_node = ""
        self.end_reason = ""

    async def node_entered(self, *, node: str, settings: dict[str, Any]) -> None:
        self.current_node = node
        await self.apply_node_settings(node, settings)
        self.writer.write(call_record_node, call_id=self.call_id, node=node)

    async def function_called(self, *, node: str, function: str, arguments: dict[str, Any]) -> None:
        logger.info("call %s: %s called %s", self.call_id, node, function)

    async def outcome_updated(self, *, outcome: str, fields: dict[str, Any]) -> None:
        self.writer.write(call_update_outcome, call_id=self.call_id, outcome=outcome, fields=fields)

    async def http_request(self, *, request: HttpRequest) -> HttpResult:
        return await send_http_request(request)

    async def transfer_requested(self, *, number: str) -> None:
        self.end_reason = "transferred"

    async def end_requested(self, *, reason: str) -> None:
        self.end_reason = reason

    def now(self) -> dt.datetime:
        return dt.datetime.now(tz=self.zone)
