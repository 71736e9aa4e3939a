from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from loguru import logger as loguru_logger

from calls.voice.log_bridge import route_loguru_to_logging
from config.logs import context
from tests.log_capture import LogLines, captured_logs


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    route_loguru_to_logging()
    with captured_logs() as lines:
        yield lines
    loguru_logger.remove()
    loguru_logger.add(sys.stderr)


def test_pipecat_lines_are_masked_and_carry_the_call(log_lines: LogLines) -> None:
    with context.bound(call_id=42, worker_id="w9"):
        loguru_logger.info("User said: call me on +14155550134")
        loguru_logger.debug("below the root level, dropped")
        try:
            raise RuntimeError("token=abc123 refused")
        except RuntimeError:
            loguru_logger.exception("LLM request failed")

    info, error = log_lines()
    assert (info["level"], info["logger"], info["message"]) == (
        "INFO",
        "tests.calls.voice.test_log_bridge",
        "User said: call me on ***34",
    )
    assert (info["call_id"], info["worker_id"]) == ("42", "w9")
    assert (error["level"], error["message"]) == ("ERROR", "LLM request failed")
    assert str(error["exc"]).endswith("RuntimeError: token=*** refused")
