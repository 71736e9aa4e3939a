"""Row ids that arrive as text (URLs, query strings, form fields, provider callbacks)."""

from __future__ import annotations

import re

# str.isdigit() also accepts "¹" and "①", which int() then refuses; only ASCII digits are ids.
_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value: str) -> int | None:
    """The id `value` spells, or None when it is not a plain positive decimal that fits bigint."""
    return int(value) if _ID.fullmatch(value) else None
