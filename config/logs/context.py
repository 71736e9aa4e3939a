"""Correlation ids for log lines, carried in a contextvar across threads, tasks and processes.

One immutable mapping per context: asyncio tasks and `sync_to_async` threads copy it, Celery
carries it in task headers (config/logs/celery.py) and the call worker binds its call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType

# The ids a log line may carry, in the order they are printed.
FIELDS = (
    "request_id",
    "merchant_id",
    "lead_id",
    "call_id",
    "campaign_id",
    "worker_id",
    "task_id",
    "task_name",
)
# Ids that travel with work handed to another process (a task's own id does not).
PROPAGATED = ("request_id", "merchant_id", "lead_id", "call_id", "campaign_id")

LogContext = Mapping[str, str]
_EMPTY: LogContext = MappingProxyType({})
_context: ContextVar[LogContext] = ContextVar("breeze_log_context", default=_EMPTY)


def current() -> LogContext:
    return _context.get()


def bind(**ids: object) -> Token[LogContext]:
    """Add ids to the current context (None leaves a field as it is); reset with the token."""
    unknown = set(ids) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown log context fields: {sorted(unknown)}")
    merged = dict(_context.get())
    merged.update({name: str(value) for name, value in ids.items() if value is not None})
    return _context.set(MappingProxyType(merged))


def replace(ids: Mapping[str, object]) -> Token[LogContext]:
    """Start from exactly these ids (known fields only), as a task or worker does."""
    clean = {name: str(ids[name]) for name in FIELDS if ids.get(name) not in (None, "")}
    return _context.set(MappingProxyType(clean))


def reset(token: Token[LogContext]) -> None:
    _context.reset(token)


@contextmanager
def bound(**ids: object) -> Iterator[None]:
    token = bind(**ids)
    try:
        yield
    finally:
        _context.reset(token)


def propagated() -> dict[str, str]:
    context = _context.get()
    return {name: context[name] for name in PROPAGATED if name in context}
