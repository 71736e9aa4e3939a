"""Calling windows: when a lead may be called, in whose clock, and the next opening if not now.

Windows are wall-clock hours on weekdays in one IANA zone. Each candidate window is turned into
an aware start and end on its own local date, so a window on a daylight-saving day is as long
as the clocks say (an hour shorter or longer in absolute time); a time that falls in the
spring-forward gap is moved forward by the gap, as calendars do (02:30 → 03:30).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_time_zones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Looking one day back catches a window that opened yesterday and is still open (none do
# today, since windows end by 24:00, but it keeps the scan honest); eight ahead covers a week.
_DAYS_BACK, _DAYS_AHEAD = 1, 8


def _local(day: dt.date, hhmm: str, zone: ZoneInfo) -> dt.datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    if hours == 24:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    naive = dt.datetime.combine(day, dt.time(hours, minutes))
    aware = naive.replace(tzinfo=zone)
    # A time in the spring-forward gap does not exist: round-tripping through UTC moves it
    # forward by the gap; an ambiguous fall-back time is read as its first occurrence.
    return aware.astimezone(dt.UTC).astimezone(zone)


def next_opening(
    *, windows: Sequence[Mapping[str, Any]], zone: ZoneInfo, at: dt.datetime
) -> dt.datetime | None:
    """`at` if it is inside a window, else the start of the next one; None if none ever opens."""
    if not windows:
        return at
    today = at.astimezone(zone).date()
    best: dt.datetime | None = None
    for offset in range(-_DAYS_BACK, _DAYS_AHEAD):
        day = today + dt.timedelta(days=offset)
        weekday = WEEKDAYS[day.weekday()]
        for window in windows:
            if weekday not in window["days"]:
                continue
            start = _local(day, window["start"], zone)
            end = _local(day, window["end"], zone)
            if start <= at < end:
                return at
            if start > at and (best is None or start < best):
                best = start
    return best.astimezone(dt.UTC) if best is not None else None


# A lead retried keeps its number, and a campaign calls the same numbers again: parsing and
# validating a number is most of the cost of reading its zone.
@functools.lru_cache(maxsize=65_536)
def phone_time_zone(phone: str) -> str | None:
    """The number's zone when its region has only one (India yes, the whole US no)."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    zones = [
        zone for zone in phone_time_zones.time_zones_for_number(number) if zone != "Etc/Unknown"
    ]
    return zones[0] if len(zones) == 1 else None


def lead_zone(
    *, execution: Mapping[str, Any], lead_time_zone: str, phone: str, merchant_time_zone: str
) -> ZoneInfo:
    """Whose clock the windows are read in: the template's zone, or the lead's own.

    "lead" (the default) means the lead's explicit zone, else the one its phone number's
    region implies, else the merchant's.
    """
    return ZoneInfo(
        lead_zone_name(
            execution=execution,
            lead_time_zone=lead_time_zone,
            phone=phone,
            merchant_time_zone=merchant_time_zone,
        )
    )


def lead_zone_name(
    *, execution: Mapping[str, Any], lead_time_zone: str, phone: str, merchant_time_zone: str
) -> str:
    """`lead_zone`, by its IANA name."""
    configured = execution.get("time_zone") or "lead"
    if configured != "lead":
        return str(configured)
    return lead_time_zone or phone_time_zone(phone) or merchant_time_zone or "UTC"
