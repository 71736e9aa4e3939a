"""Which telephony providers a template dials through, in order, each with its caller numbers.

`execution.telephony_providers` lists them for failover; the older single-provider keys
(`telephony_provider`, `caller_numbers`, `number_selection`) still describe a list of one.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProviderChoice:
    provider: str
    caller_numbers: tuple[str, ...] = ()
    number_selection: str = "first"


def _choice(entry: Mapping[str, Any], *, provider: str) -> ProviderChoice:
    return ProviderChoice(
        provider=provider,
        caller_numbers=tuple(entry.get("caller_numbers") or ()),
        number_selection=entry.get("number_selection", "first"),
    )


def execution_providers(execution: Mapping[str, Any], *, default: str) -> list[ProviderChoice]:
    """The providers to try for one attempt, first choice first."""
    entries = execution.get("telephony_providers")
    if entries:
        return [_choice(entry, provider=entry["provider"]) for entry in entries]
    return [_choice(execution, provider=execution.get("telephony_provider") or default)]


def provider_choice(execution: Mapping[str, Any], *, provider: str) -> ProviderChoice:
    """How to dial through `provider`: its entry in the list, else the single-provider keys."""
    for entry in execution.get("telephony_providers") or ():
        if entry["provider"] == provider:
            return _choice(entry, provider=provider)
    if execution.get("telephony_providers"):
        return ProviderChoice(provider=provider)
    return _choice(execution, provider=provider)


def provider_after(
    execution: Mapping[str, Any], *, provider: str, default: str
) -> ProviderChoice | None:
    """The provider to fail over to after `provider`, or None when it was the last one."""
    names = [choice.provider for choice in execution_providers(execution, default=default)]
    if provider not in names:
        return None
    later = execution_providers(execution, default=default)[names.index(provider) + 1 :]
    return later[0] if later else None


def select_number(choice: ProviderChoice, *, call_id: int) -> str | None:
    """The caller number `choice` gives call `call_id`; None when the template lists none.

    A pure function of the call id, so the dispatcher (which leases a slot for the number)
    and the placement (which dials from it) agree.
    """
    numbers = choice.caller_numbers
    if not numbers:
        return None
    if choice.number_selection == "random":
        return random.Random(call_id).choice(numbers)  # noqa: S311 - spreading, not secrecy
    if choice.number_selection == "round_robin":
        # Call ids are sequential, so this spreads consecutive calls over the numbers.
        return numbers[call_id % len(numbers)]
    return numbers[0]
