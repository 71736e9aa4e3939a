"""The caps a merchant's calls are held to: its admin row, else the platform's row, else settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from leads.models import DispatchLimits
from templates_app.definition.providers import execution_providers, select_number


@dataclass(frozen=True)
class Limits:
    concurrent_calls: int
    concurrent_calls_per_caller_number: int | None
    calls_per_number_per_hour: int


def dispatch_limits(*, merchant_ids: Iterable[int]) -> dict[int, Limits]:
    """Each merchant's effective caps, with one query for the whole batch."""
    merchant_ids = set(merchant_ids)
    rows: dict[int | None, DispatchLimits] = {
        row.merchant_id: row
        for row in DispatchLimits.objects.filter(
            Q(merchant__isnull=True) | Q(merchant_id__in=merchant_ids)
        )
    }

    def pick(merchant_id: int, name: str, default: Any) -> Any:
        for row in (rows.get(merchant_id), rows.get(None)):
            if row is not None and getattr(row, name) is not None:
                return getattr(row, name)
        return default

    return {
        merchant_id: Limits(
            concurrent_calls=pick(
                merchant_id, "concurrent_calls", settings.BREEZE_MERCHANT_CONCURRENCY
            ),
            concurrent_calls_per_caller_number=pick(
                merchant_id, "concurrent_calls_per_caller_number", None
            ),
            calls_per_number_per_hour=pick(
                merchant_id, "calls_per_number_per_hour", settings.BREEZE_CALLS_PER_NUMBER_PER_HOUR
            ),
        )
        for merchant_id in merchant_ids
    }


def leased_caller_number(*, execution: Mapping[str, Any], call_id: int) -> str | None:
    """The caller number a call's per-number slot is leased for: its first provider's choice.

    Only numbers the template lists can be capped (a credential's number is read at dial
    time). A call that fails over keeps the slot of this first number.
    """
    first = execution_providers(execution, default=settings.BREEZE_DEFAULT_TELEPHONY_PROVIDER)[0]
    return select_number(first, call_id=call_id)
