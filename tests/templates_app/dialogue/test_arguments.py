from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from templates_app.dialogue.arguments import fill_arguments, parse_time

# A Wednesday morning in India.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata"))

BOOLEAN = {"type": "boolean"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
ENUM = {"type": "string", "enum": ["standard", "express", "same_day"]}
DATE = {"type": "string", "format": "date"}
TIME = {"type": "string", "format": "time"}
TEXT = {"type": "string"}


def fill(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    return fill_arguments(text, {"value": schema}, ["value"], now=NOW)


@pytest.mark.parametrize(
    ("_case", "text", "schema", "expected"),
    [
        ("yes with extra words", "yes please", BOOLEAN, {"value": True}),
        ("casual yes", "Yeah", BOOLEAN, {"value": True}),
        ("okay", "okay then", BOOLEAN, {"value": True}),
        ("casual no", "nope", BOOLEAN, {"value": False}),
        ("negated agreement", "that's not right", BOOLEAN, {"value": False}),
        ("first polar word wins", "sure, no problem", BOOLEAN, {"value": True}),
        ("no polar word", "maybe later", BOOLEAN, {}),
        ("digits", "I need 3 of them", INTEGER, {"value": 3}),
        ("number word", "two shirts", INTEGER, {"value": 2}),
        ("compound number words", "twenty five", INTEGER, {"value": 25}),
        ("hyphenated number words", "twenty-five boxes", INTEGER, {"value": 25}),
        ("largest number words", "ninety nine", INTEGER, {"value": 99}),
        ("round tens", "thirty", INTEGER, {"value": 30}),
        ("fraction is no integer", "2.5", INTEGER, {}),
        ("fraction as number", "2.5 kilos", NUMBER, {"value": 2.5}),
        ("no number", "none at all", INTEGER, {}),
        ("enum named", "express please", ENUM, {"value": "express"}),
        ("enum with underscore", "same day delivery", ENUM, {"value": "same_day"}),
        ("enum misspelt", "expres", ENUM, {"value": "express"}),
        ("enum not named", "whatever is cheapest", ENUM, {}),
        ("today", "today", DATE, {"value": "2026-11-25"}),
        ("tomorrow", "tomorrow please", DATE, {"value": "2026-11-26"}),
        ("day after tomorrow", "the day after tomorrow", DATE, {"value": "2026-11-27"}),
        ("weekday ahead", "on friday", DATE, {"value": "2026-11-27"}),
        ("weekday after the weekend", "Monday", DATE, {"value": "2026-11-30"}),
        ("same weekday is next week", "wednesday", DATE, {"value": "2026-12-02"}),
        ("ordinal day today", "the 25th", DATE, {"value": "2026-11-25"}),
        ("ordinal day passed", "the 20th", DATE, {"value": "2026-12-20"}),
        ("ordinal day skips short month", "31st", DATE, {"value": "2026-12-31"}),
        ("day month", "25 november", DATE, {"value": "2026-11-25"}),
        ("month day", "november 25", DATE, {"value": "2026-11-25"}),
        ("ordinal of month", "28th of November", DATE, {"value": "2026-11-28"}),
        ("month day passed", "nov 20", DATE, {"value": "2027-11-20"}),
        ("iso date", "2026-11-30", DATE, {"value": "2026-11-30"}),
        ("impossible iso date", "2026-02-30", DATE, {}),
        ("first date mentioned", "not tomorrow, friday", DATE, {"value": "2026-11-26"}),
        ("no date", "sometime soon", DATE, {}),
        ("hour pm", "5 pm", TIME, {"value": "17:00"}),
        ("hour minutes pm", "at 5:30 pm", TIME, {"value": "17:30"}),
        ("dotted pm", "5 p.m.", TIME, {"value": "17:00"}),
        ("midnight am", "12 am", TIME, {"value": "00:00"}),
        ("24 hour", "17:30", TIME, {"value": "17:30"}),
        ("noon", "around noon", TIME, {"value": "12:00"}),
        ("morning", "in the morning", TIME, {"value": "09:00"}),
        ("afternoon", "afternoon", TIME, {"value": "14:00"}),
        ("evening", "evening works", TIME, {"value": "18:00"}),
        ("bare hour is ambiguous", "at 5", TIME, {}),
        (
            "free text stripped",
            "  Leave it at the door.  ",
            TEXT,
            {"value": "Leave it at the door."},
        ),
        ("unsupported type", "anything", {"type": "object"}, {}),
    ],
)
def test_fill_arguments_reads_one_property(
    _case: str, text: str, schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert fill(text, schema) == expected


def test_fill_arguments_fills_every_property_in_schema_order() -> None:
    properties = {
        "note": TEXT,
        "confirmed": BOOLEAN,
        "quantity": INTEGER,
        "delivery_date": DATE,
        "slot": TIME,
        "speed": ENUM,
    }

    filled = fill_arguments("yes, 2 boxes tomorrow at 5 pm", properties, ["confirmed"], now=NOW)

    assert list(filled.items()) == [
        ("note", "yes, 2 boxes tomorrow at 5 pm"),
        ("confirmed", True),
        ("quantity", 2),
        ("delivery_date", "2026-11-26"),
        ("slot", "17:00"),
    ]


def test_fill_arguments_reads_dates_in_the_timezone_of_now() -> None:
    # 01:00 in Kolkata is still the 24th in UTC; "today" is the customer's date.
    early = datetime(2026, 11, 25, 1, 0, tzinfo=ZoneInfo("Asia/Kolkata"))

    assert fill_arguments("today", {"day": DATE}, [], now=early) == {"day": "2026-11-25"}


@pytest.mark.parametrize(
    ("_case", "text", "expected"),
    [
        ("hour word", "at five pm", "17:00"),
        ("hour and half", "five thirty pm", "17:30"),
        ("quarter to the hour", "six forty five p.m.", "18:45"),
        ("morning hour word", "eleven am", "11:00"),
        ("a number that is not a time", "i have two kids", None),
    ],
)
def test_times_spoken_in_words(_case: str, text: str, expected: str | None) -> None:
    assert parse_time(text) == expected
