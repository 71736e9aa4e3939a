"""At most the merchant's `calls_per_number_per_hour` calls to one number in any hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.db.models import Count, Min

from calls.models import Call
from leads.dispatch.claim import Numbered
from leads.dispatch.limits import Limits

HOUR = dt.timedelta(hours=1)


class NumberCap:
    """A batch's view of recent calls per (merchant, number), counting its own dials too.

    Two dispatchers working at once may each dial a number once more than the other saw:
    the cap is a courtesy limit on how often a customer's phone rings, not a lock.
    """

    def __init__(
        self, *, leads: Iterable[Numbered], now: dt.datetime, limits: Mapping[int, Limits]
    ) -> None:
        leads = list(leads)
        self.now = now
        self.caps = {
            merchant_id: limit.calls_per_number_per_hour for merchant_id, limit in limits.items()
        }
        recent = (
            Call.objects.filter(
                merchant_id__in={lead.merchant_id for lead in leads},
                customer_phone__in={lead.phone for lead in leads},
                created_at__gte=now - HOUR,
            )
            .values_list("merchant_id", "customer_phone")
            .annotate(count=Count("pk"), first=Min("created_at"))
        )
        self.seen: dict[tuple[int, str], list[dt.datetime]] = {
            (merchant_id, phone): [first] * count for merchant_id, phone, count, first in recent
        }

    def next_allowed(self, lead: Numbered) -> dt.datetime | None:
        """None if `lead` may be dialled now, else when its number's hour frees a call."""
        calls = self.seen.get((lead.merchant_id, lead.phone), [])
        if len(calls) < self.caps[lead.merchant_id]:
            return None
        return min(calls) + HOUR

    def dialled(self, lead: Numbered) -> None:
        self.seen.setdefault((lead.merchant_id, lead.phone), []).append(self.now)
