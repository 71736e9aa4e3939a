from __future__ import annotations

from typing import NamedTuple


class Problem(NamedTuple):
    """One thing wrong with one input field: a stable code for programs, a message for people."""

    code: str
    message: str


# Problems by dotted field path (`phone`, `payload.order_id`, `leads.3.phone`).
Errors = dict[str, list[Problem]]
