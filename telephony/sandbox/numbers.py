"""Magic destination numbers: what the sandbox does with a call to them.

They follow Twilio's test-credential convention (+1 500 555 0xxx), are valid numbers to
libphonenumber (so a lead with one passes Breeze's validation) and mean the same thing on
every provider. Any other number answers and talks.
"""

from __future__ import annotations

import enum
from typing import Final


class Fate(enum.StrEnum):
    ANSWER = "answer"
    # Refused by the REST API, before any call exists.
    INVALID_NUMBER = "invalid_number"
    NOT_ALLOWED = "not_allowed"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    # Placed, then the callbacks tell how it failed to connect.
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    # Answered by an answering machine (what detection, when asked for, reports).
    MACHINE = "machine"


MAGIC_NUMBERS: Final[dict[str, Fate]] = {
    "+15005550001": Fate.INVALID_NUMBER,
    "+15005550003": Fate.NOT_ALLOWED,
    "+15005550429": Fate.RATE_LIMITED,
    "+15005550500": Fate.SERVER_ERROR,
    "+15005550486": Fate.BUSY,
    "+15005550408": Fate.NO_ANSWER,
    "+15005550404": Fate.FAILED,
    "+15005550777": Fate.MACHINE,
}

REFUSED: Final = frozenset(
    {Fate.INVALID_NUMBER, Fate.NOT_ALLOWED, Fate.RATE_LIMITED, Fate.SERVER_ERROR}
)


def fate_of(number: str) -> Fate:
    return MAGIC_NUMBERS.get(number.strip(), Fate.ANSWER)
