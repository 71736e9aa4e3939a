"""Carries correlation ids from whoever enqueues a task into the worker that runs it.

The ids travel in the message headers (`breeze_log_context`); in the worker, a task starts
from exactly those ids plus its own task id, its id arguments (`call_id`, `lead_id`, …) bound
too, and the worker thread's context is restored when the task ends.
"""

from __future__ import annotations

import inspect
from contextvars import Token
from typing import Any

from celery import Task
from celery.signals import before_task_publish, task_postrun, task_prerun

from config.logs import context

HEADER = "breeze_log_context"
_ARGUMENT_IDS = ("merchant_id", "lead_id", "call_id", "campaign_id")
_tokens: dict[str, Token[context.LogContext]] = {}


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None:
        headers[HEADER] = context.propagated()


def _argument_ids(
    task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    try:
        bound = inspect.signature(task.run).bind_partial(*args, **kwargs)
    except TypeError:
        return {}
    return {name: bound.arguments[name] for name in _ARGUMENT_IDS if name in bound.arguments}


def _on_prerun(
    task_id: str,
    task: Task[Any, Any],
    args: tuple[Any, ...] | None = None,
    kwargs: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    carried = getattr(task.request, HEADER, None)
    # No header: run eagerly in the caller's own context (or sent by a client without this).
    start = carried if isinstance(carried, dict) else context.current()
    ids = {
        **start,
        **_argument_ids(task, tuple(args or ()), dict(kwargs or {})),
        "task_id": task_id,
        "task_name": task.name,
    }
    _tokens[task_id] = context.replace(ids)


def _on_postrun(task_id: str, **_: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        context.reset(token)


def connect() -> None:
    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="breeze-log-publish")
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="breeze-log-prerun")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="breeze-log-postrun")
