from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest

from config.logs.formatters import JsonFormatter


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, object]]]]:
    """The JSON lines written through the configured root handler during the test."""
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
