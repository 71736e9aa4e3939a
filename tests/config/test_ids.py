from __future__ import annotations

import pytest

from config.ids import parse_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), ("0042", 42), ("123456789012345678", 123456789012345678)],
)
def test_ascii_digits_are_ids(text: str, expected: int) -> None:
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    "text", ["", " 7", "7 ", "-7", "+7", "7.0", "\u00b9", "\u2460", "\u0663", "1234567890123456789"]
)
def test_anything_else_is_not_an_id(text: str) -> None:
    assert parse_id(text) is None
