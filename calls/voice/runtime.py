"""What a live call's flow does to the world.

Outcomes and the node path go to PostgreSQL; node settings go to the running pipeline.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async

from calls.services import call_record_node, call_update_outcome
from calls.voice.control import call_control_send
from calls.voice.writer import CallWriter
from telephony.transfers import call_agent_dial
from templates_app.definition.transfer import TransferPlan
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
        transfer: TransferPlan | None = None,
        keep_line: Callable[[bool], None] = lambda keep: None,
    ) -> None:
        self.call_id = call_id
        self.zone = zoneinfo.ZoneInfo(time_zone)
        self.writer = writer
        self.apply_node_settings = apply_node_settings
        self.current_node = ""
        self.end_reason = ""
        self.transfer = transfer
        # `keep_line(True)`: when the bot leaves, the provider must not hang up the customer.
        self.keep_line = keep_line
        # A cold transfer the provider is asked for once the bot has said its last words.
        self.cold_transfer_number = ""
        # A warm transfer whose agent is ringing while the bot holds the customer.
        self.warm_transfer_pending = False

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

    async def transfer_requested(self, *, number: str) -> bool:
        """Start the transfer; True while the bot holds the customer for a ringing agent."""
        self.keep_line(True)
        if self.transfer is not None and self.transfer.mode == "warm":
            dialled = await sync_to_async(call_agent_dial)(
                call_id=self.call_id, number=number, ring_timeout=self.transfer.ring_timeout
            )
            if dialled is not None:
                # Transferred only once the agent answers (that callback ends the call so);
                # until then a hang-up is the customer's.
                self.warm_transfer_pending = True
                if not dialled:
                    logger.warning("call %s: the agent could not be dialled", self.call_id)
                    await sync_to_async(call_control_send)(
                        call_id=self.call_id, message={"type": "transfer_unanswered"}
                    )
                return True
            logger.info(
                "call %s: no warm transfer on this provider; transferring cold", self.call_id
            )
        self.end_reason = "transferred"
        self.cold_transfer_number = number
        return False

    async def end_requested(self, *, reason: str) -> None:
        self.end_reason = reason

    def now(self) -> dt.datetime:
        return dt.datetime.now(tz=self.zone)
