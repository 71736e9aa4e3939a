"""What happens to a lead after an attempt: complete, fail, retry later, or give up."""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Used when a template sets no delay for a disposition (seconds).
DEFAULT_RETRY_DELAY = 1800
DEFAULT_MAX_ATTEMPTS = 3
FINAL_SUCCESS = frozenset({"answered", "transferred"})
RETRYABLE = frozenset({"no_answer", "busy", "failed", "voicemail", "early_hangup"})
# Provider answers that no later attempt can change: the number itself is wrong.
PERMANENT_END_REASONS = frozenset({"invalid_number", "number_not_allowed", "unknown_provider"})


class Verdict(enum.StrEnum):
    COMPLETE = "complete"
    RETRY = "retry"
    EXHAUSTED = "exhausted"
    FAIL = "fail"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    retry_at: dt.datetime | None = None


def retry_decide(
    *,
    execution: Mapping[str, Any],
    disposition: str,
    end_reason: str,
    attempts: int,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> Decision:
    """The verdict for an attempt that ended with `disposition`, after `attempts` attempts."""
    if disposition in FINAL_SUCCESS:
        return Decision(Verdict.COMPLETE, f"call {disposition}")
    if disposition == "canceled":
        return Decision(Verdict.CANCEL, "call canceled")
    if end_reason in PERMANENT_END_REASONS or disposition not in RETRYABLE:
        return Decision(Verdict.FAIL, f"{disposition}: {end_reason}" if end_reason else disposition)
    max_attempts = int(execution.get("max_attempts", DEFAULT_MAX_ATTEMPTS))
    if attempts >= max_attempts:
        return Decision(Verdict.EXHAUSTED, f"{disposition} on attempt {attempts} of {max_attempts}")
    delay = float(execution.get("retry_delays", {}).get(disposition, DEFAULT_RETRY_DELAY))
    jitter = float(execution.get("retry_jitter", 0))
    # Jitter spreads a batch that failed together (a carrier outage) over the retry window.
    factor = 1 + (rng or random.SystemRandom()).uniform(-jitter, jitter)
    return Decision(
        Verdict.RETRY,
        f"{disposition}, retry {attempts + 1} of {max_attempts}",
        now + dt.timedelta(seconds=delay * factor),
    )
