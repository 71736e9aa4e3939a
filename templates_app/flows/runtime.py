"""What a running flow may do to the world, so calls and the playground can differ safely.

Flow handlers never touch the ORM or the network themselves: they call a `FlowRuntime`.
A real call's runtime writes outcomes and places transfers; the playground's records what
would have happened and never touches real leads, outcomes or analytics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from templates_app.flows.http import HttpRequest, HttpResult, send_http_request


class FlowRuntime(Protocol):
    async def node_entered(self, *, node: str, settings: dict[str, Any]) -> None: ...

    async def function_called(
        self, *, node: str, function: str, arguments: dict[str, Any]
    ) -> None: ...

    async def outcome_updated(self, *, outcome: str, fields: dict[str, Any]) -> None: ...

    async def http_request(self, *, request: HttpRequest) -> HttpResult: ...

    async def transfer_requested(self, *, number: str) -> bool:
        """True while the bot holds the customer (a warm transfer's agent is ringing)."""
        ...

    async def end_requested(self, *, reason: str) -> None: ...

    def now(self) -> dt.datetime: ...


@dataclass
class RecordedEvent:
    kind: str
    detail: dict[str, Any]


@dataclass
class RecordingRuntime:
    """A runtime that records every effect; by default HTTP is answered without sending.

    Used by the playground (a dry run: `http_responses` maps a rendered URL to the result a
    request to it returns) and by tests; `send_http=True` really sends template HTTP calls.
    """

    clock: dt.datetime | None = None
    send_http: bool = False
    http_responses: dict[str, HttpResult] = field(default_factory=dict)
    events: list[RecordedEvent] = field(default_factory=list)
    outcome: str | None = None
    outcome_fields: dict[str, Any] = field(default_factory=dict)

    def _record(self, kind: str, **detail: Any) -> None:
        self.events.append(RecordedEvent(kind, detail))

    async def node_entered(self, *, node: str, settings: dict[str, Any]) -> None:
        self._record("node_entered", node=node, settings=settings)

    async def function_called(self, *, node: str, function: str, arguments: dict[str, Any]) -> None:
        self._record("function_called", node=node, function=function, arguments=arguments)

    async def outcome_updated(self, *, outcome: str, fields: dict[str, Any]) -> None:
        self.outcome = outcome
        self.outcome_fields = {**self.outcome_fields, **fields}
        self._record("outcome_updated", outcome=outcome, fields=fields)

    async def http_request(self, *, request: HttpRequest) -> HttpResult:
        self._record("http_request", method=request.method, url=request.url, body=request.body)
        if self.send_http:
            return await send_http_request(request)
        return self.http_responses.get(request.url, HttpResult(status=200, body={"dry_run": True}))

    async def transfer_requested(self, *, number: str) -> bool:
        # A dry run transfers nobody, so the bot never holds.
        self._record("transfer_requested", number=number)
        return False

    async def end_requested(self, *, reason: str) -> None:
        self._record("end_requested", reason=reason)

    def now(self) -> dt.datetime:
        return self.clock or dt.datetime.now(tz=dt.UTC)

    def nodes_entered(self) -> list[str]:
        return [event.detail["node"] for event in self.events if event.kind == "node_entered"]
