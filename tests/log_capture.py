"""Read what the configured root handler writes, as JSON lines, for log tests."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from config.logs.formatters import JsonFormatter

LogLines = Callable[[], list[dict[str, object]]]


@contextmanager
def captured_logs() -> Iterator[LogLines]:
    """Swaps the console handler's stream (filters untouched) and formatter for JSON."""
    (handler,) = (h for h in logging.getLogger().handlers if h.get_name() == "console")
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous_stream = handler.setStream(stream)
    previous_formatter = handler.formatter
    handler.setFormatter(JsonFormatter())
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        handler.setStream(previous_stream)
        handler.setFormatter(previous_formatter)
