from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from leads.dispatch.services import leads_dispatch_batch
from leads.dispatch.windows import lead_zone, next_opening, phone_time_zone
from leads.models import Lead, LeadTransition
from templates_app.models import Template
from tests.leads.dispatch.conftest import ALWAYS, Dials

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
WEEKDAYS_9_TO_5 = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]


def utc(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_inside_a_window_is_now() -> None:
    # Wednesday 2026-11-25 10:00 in Kolkata is 04:30 UTC.
    at = utc(2026, 11, 25, 4, 30)
    assert next_opening(windows=WEEKDAYS_9_TO_5, zone=KOLKATA, at=at) == at


def test_before_opening_waits_for_todays_start_in_the_windows_zone() -> None:
    at = utc(2026, 11, 25, 1, 0)  # 06:30 in Kolkata
    assert next_opening(windows=WEEKDAYS_9_TO_5, zone=KOLKATA, at=at) == utc(2026, 11, 25, 3, 30)


def test_the_end_is_exclusive_and_friday_evening_waits_for_monday() -> None:
    friday_close = utc(2026, 11, 27, 11, 30)  # Friday 17:00 in Kolkata
    assert next_opening(windows=WEEKDAYS_9_TO_5, zone=KOLKATA, at=friday_close) == utc(
        2026, 11, 30, 3, 30
    )


def test_no_windows_means_any_time() -> None:
    at = utc(2026, 11, 28, 23, 59)
    assert next_opening(windows=[], zone=KOLKATA, at=at) == at


def test_a_window_to_midnight_includes_the_last_minute() -> None:
    windows = [{"days": ["sat"], "start": "20:00", "end": "24:00"}]
    at = utc(2026, 11, 28, 18, 29)  # Saturday 23:59 in Kolkata
    assert next_opening(windows=windows, zone=KOLKATA, at=at) == at
    assert next_opening(windows=windows, zone=KOLKATA, at=utc(2026, 11, 28, 18, 30)) == utc(
        2026, 12, 5, 14, 30
    )


def test_the_opening_after_spring_forward_is_an_hour_earlier_in_utc() -> None:
    # New York springs forward on Sunday 2026-03-08. Saturday evening's next opening is
    # Monday 09:00 EDT (13:00 UTC), not 14:00 UTC as Friday's offset would give.
    saturday_evening = utc(2026, 3, 7, 23, 0)
    assert next_opening(windows=WEEKDAYS_9_TO_5, zone=NEW_YORK, at=saturday_evening) == utc(
        2026, 3, 9, 13, 0
    )
    friday_evening = utc(2026, 3, 6, 23, 0)
    assert next_opening(windows=WEEKDAYS_9_TO_5, zone=NEW_YORK, at=friday_evening) == utc(
        2026, 3, 9, 13, 0
    )


def test_a_window_across_spring_forward_opens_after_the_gap_and_is_shorter() -> None:
    windows = [{"days": ["sun"], "start": "02:30", "end": "04:00"}]
    # 02:30 does not exist on 2026-03-08 in New York: the window opens at 03:30 EDT.
    assert next_opening(windows=windows, zone=NEW_YORK, at=utc(2026, 3, 8, 6, 0)) == utc(
        2026, 3, 8, 7, 30
    )
    assert next_opening(windows=windows, zone=NEW_YORK, at=utc(2026, 3, 8, 7, 59)) == utc(
        2026, 3, 8, 7, 59
    )
    # 04:00 EDT is 08:00 UTC: closed from then until next Sunday 02:30 EDT.
    assert next_opening(windows=windows, zone=NEW_YORK, at=utc(2026, 3, 8, 8, 0)) == utc(
        2026, 3, 15, 6, 30
    )


def test_a_window_across_fall_back_lasts_an_hour_longer() -> None:
    # 01:00 to 02:00 on Sunday 2026-11-01 in New York: 01:00 EDT (05:00 UTC) to 02:00 EST
    # (07:00 UTC), two real hours, and the repeated 01:30 EST (06:30 UTC) is inside.
    windows = [{"days": ["sun"], "start": "01:00", "end": "02:00"}]
    for inside in (utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 6, 59)):
        assert next_opening(windows=windows, zone=NEW_YORK, at=inside) == inside
    assert next_opening(windows=windows, zone=NEW_YORK, at=utc(2026, 11, 1, 7, 0)) == utc(
        2026, 11, 8, 6, 0
    )


@pytest.mark.parametrize(
    ("phone", "zone"),
    [("+919812345678", "Asia/Calcutta"), ("+12125551234", "America/New_York"), ("+1800", None)],
)
def test_a_phone_numbers_zone_when_its_region_has_one(phone: str, zone: str | None) -> None:
    assert phone_time_zone(phone) == zone


@pytest.mark.parametrize(
    ("configured", "lead_time_zone", "phone", "expected"),
    [
        ("Europe/Paris", "Asia/Tokyo", "+919812345678", "Europe/Paris"),
        ("lead", "Asia/Tokyo", "+919812345678", "Asia/Tokyo"),
        ("lead", "", "+12125551234", "America/New_York"),
        (None, "", "+919812345678", "Asia/Calcutta"),
        ("lead", "", "not a number", "Asia/Dubai"),
    ],
)
def test_whose_clock_the_windows_use(
    configured: str | None, lead_time_zone: str, phone: str, expected: str
) -> None:
    execution = {"time_zone": configured} if configured else {}
    zone = lead_zone(
        execution=execution,
        lead_time_zone=lead_time_zone,
        phone=phone,
        merchant_time_zone="Asia/Dubai",
    )
    assert zone.key == expected


def test_the_dispatcher_reschedules_a_lead_outside_its_window_to_the_next_opening(
    make_template: Callable[..., Template], make_lead: Callable[..., Lead], dials: Dials
) -> None:
    # A window that opened one hour ago and closed one minute ago, today, in the lead's zone
    # (read from its number): New York or India, whichever is past 02:00 so it fits in today.
    phone, zone = ("+12125551234", NEW_YORK)
    if dt.datetime.now(zone).hour < 2:
        phone, zone = ("+919812345678", KOLKATA)
    now = dt.datetime.now(zone)
    closed = now - dt.timedelta(minutes=1)
    windows = [
        {
            "days": [("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]],
            "start": f"{closed.hour - 1:02d}:{closed.minute:02d}",
            "end": f"{closed.hour:02d}:{closed.minute:02d}",
        }
    ]
    template = make_template(
        "windowed", execution={**ALWAYS, "calling_windows": windows, "time_zone": "lead"}
    )
    lead = make_lead(template=template, phone=phone)

    report = leads_dispatch_batch()

    lead.refresh_from_db()
    opening = (closed - dt.timedelta(hours=1)).replace(second=0, microsecond=0) + dt.timedelta(
        days=7
    )
    assert (report.claimed, report.rescheduled, report.dialled) == (1, 1, [])
    assert (lead.status, lead.attempts, lead.next_attempt_at) == ("scheduled", 0, opening)
    transition = LeadTransition.objects.get(lead=lead)
    assert (transition.actor, transition.reason) == (
        "dispatcher",
        f"outside calling window until {opening.astimezone(UTC).isoformat()}",
    )
    assert dials.call_ids == []


def test_one_batch_reads_each_lead_s_window_in_its_own_zone(
    make_template: Callable[..., Template], make_lead: Callable[..., Lead], dials: Dials
) -> None:
    # A window open now in one zone and closed in the other (they are 9½-10½ hours apart),
    # not crossing midnight in the open one. A batch works out each zone's opening once:
    # every lead must still get its own zone's.
    open_zone, closed_zone = KOLKATA, NEW_YORK
    if not 1 <= dt.datetime.now(open_zone).hour <= 21:
        open_zone, closed_zone = NEW_YORK, KOLKATA
    local = dt.datetime.now(open_zone)
    windows = [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": f"{local.hour - 1:02d}:00",
            "end": f"{local.hour + 2:02d}:00",
        }
    ]
    template = make_template(
        "zones", execution={**ALWAYS, "calling_windows": windows, "time_zone": "lead"}
    )
    numbers = {KOLKATA: ["+919812345678", "+919812345679"], NEW_YORK: ["+12125551234"]}
    opened = [make_lead(template=template, phone=phone) for phone in numbers[open_zone]]
    closed = [make_lead(template=template, phone=phone) for phone in numbers[closed_zone]]
    # An explicit zone wins over the number's: a number of the open zone, read in the other.
    closed.append(
        make_lead(template=template, phone=numbers[open_zone][0], time_zone=closed_zone.key)
    )

    report = leads_dispatch_batch()

    assert (report.claimed, len(report.dialled), report.rescheduled) == (4, 2, 2)
    expected = next_opening(windows=windows, zone=closed_zone, at=dt.datetime.now(UTC))
    assert expected is not None
    for lead in opened:
        lead.refresh_from_db()
        assert (lead.status, lead.attempts) == ("dialing", 1)
    for lead in closed:
        lead.refresh_from_db()
        assert (lead.status, lead.attempts, lead.next_attempt_at) == ("scheduled", 0, expected)
