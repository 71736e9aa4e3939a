from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.log_capture import LogLines, captured_logs


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    with captured_logs() as lines:
        yield lines
