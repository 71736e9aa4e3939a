"""Sends Pipecat's loguru lines through the standard logging handlers.

Loguru writes straight to stderr, past the masking filter and without the call's ids; a
worker routes it into `logging` instead, at the root logger's level, so Pipecat's debug
chatter is not even formatted unless asked for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from loguru import logger as loguru_logger

if TYPE_CHECKING:
    from loguru import Message


def _forward(message: Message) -> None:
    record = message.record
    exception = record["exception"]
    exc_info = (
        (exception.type, exception.value, exception.traceback)
        if exception is not None and exception.type is not None and exception.value is not None
        else None
    )
    logging.getLogger(record["name"] or "loguru").log(
        record["level"].no, "%s", record["message"], exc_info=exc_info
    )


def route_loguru_to_logging() -> None:
    loguru_logger.remove()
    loguru_logger.add(
        _forward, level=logging.getLogger().getEffectiveLevel(), format="{message}", catch=False
    )
