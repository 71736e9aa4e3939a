"""Fill a function's JSON-schema arguments from what the customer said, without guessing.

Pure Python and deterministic: dates and times are read relative to the `now` passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from templates_app.dialogue.matching import normalize

_YES = frozenset({"yes", "yeah", "yep", "yup", "sure", "correct", "right", "okay", "ok"})
_NO = frozenset({"no", "nope", "nah", "not", "never", "wrong"})

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PARTS_OF_DAY = {"noon": "12:00", "midnight": "00:00", "morning": "09:00",
                 "afternoon": "14:00", "evening": "18:00"}  # fmt: skip

_NUMBER_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH = re.compile(rf"\b{_DAY}\s+(?:of\s+)?({_MONTH})\b(?:\s+(\d{{4}}))?")
_MONTH_DAY = re.compile(rf"\b({_MONTH})\s+(?:the\s+)?{_DAY}\b(?:\s+(\d{{4}}))?")
_ORDINAL_DAY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")
_RELATIVE_DAY = re.compile(r"\b(day after tomorrow|today|tomorrow)\b")
_WEEKDAY = re.compile(rf"\b({'|'.join(_WEEKDAYS)})\b")
_CLOCK_12H = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\b\.?")
_CLOCK_24H = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_PART_OF_DAY = re.compile(rf"\b({'|'.join(_PARTS_OF_DAY)})\b")
_RELATIVE_OFFSETS = {"today": 0, "tomorrow": 1, "day after tomorrow": 2}


def parse_number(text: str) -> int | float | None:
    """Read the first number in `text`: digits ("3", "2.5") or words up to ninety-nine.

    Args:
        text: What the customer said.

    Returns:
        The number, or None when there is none.
    """
    tokens = _NUMBER_TOKEN.findall(text.lower().replace("-", " "))
    for index, token in enumerate(tokens):
        if token[0].isdigit():
            return float(token) if "." in token else int(token)
        if token in _UNITS:
            return _UNITS[token]
        if token in _TENS:
            following = tokens[index + 1] if index + 1 < len(tokens) else ""
            unit = _UNITS.get(following, 0)
            return _TENS[token] + (unit if 0 < unit < 10 else 0)
    return None


def parse_boolean(text: str) -> bool | None:
    """Read yes or no from the first yes-word or no-word said ("sure, no problem" is yes)."""
    for word in normalize(text).split():
        if word in _YES:
            return True
        if word in _NO:
            return False
    return None


def _calendar_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_month_day(today: date, month: int, day: int, year: str | None) -> date | None:
    if year:
        return _calendar_date(int(year), month, day)
    this_year = _calendar_date(today.year, month, day)
    if this_year is not None and this_year >= today:
        return this_year
    return _calendar_date(today.year + 1, month, day)


def _next_day_of_month(today: date, day: int) -> date | None:
    # The 31st of a 30-day month is skipped to the next month that has one.
    for months_ahead in range(12):
        month_index = today.month - 1 + months_ahead
        candidate = _calendar_date(today.year + month_index // 12, month_index % 12 + 1, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _iso(match: re.Match[str], _today: date) -> date | None:
    year, month, day = (int(group) for group in match.groups())
    return _calendar_date(year, month, day)


def _day_month(match: re.Match[str], today: date) -> date | None:
    day, month, year = match.groups()
    return _next_month_day(today, _MONTHS[month], int(day), year)


def _month_day(match: re.Match[str], today: date) -> date | None:
    month, day, year = match.groups()
    return _next_month_day(today, _MONTHS[month], int(day), year)


def _relative(match: re.Match[str], today: date) -> date | None:
    return today + timedelta(days=_RELATIVE_OFFSETS[match.group(1)])


def _weekday(match: re.Match[str], today: date) -> date | None:
    return today + timedelta(days=(_WEEKDAYS.index(match.group(1)) - today.weekday() - 1) % 7 + 1)


def _ordinal(match: re.Match[str], today: date) -> date | None:
    return _next_day_of_month(today, int(match.group(1)))


# Most specific first: at the same position in the text the earlier reader wins.
_DATE_READERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], date | None]], ...] = (
    (_ISO_DATE, _iso),
    (_DAY_MONTH, _day_month),
    (_MONTH_DAY, _month_day),
    (_RELATIVE_DAY, _relative),
    (_WEEKDAY, _weekday),
    (_ORDINAL_DAY, _ordinal),
)


def _clock_12h(match: re.Match[str]) -> str | None:
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if not 1 <= hour <= 12 or minute >= 60:
        return None
    return f"{hour % 12 + (12 if match.group(3) == 'p' else 0):02d}:{minute:02d}"


def _clock_24h(match: re.Match[str]) -> str | None:
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _part_of_day(match: re.Match[str]) -> str | None:
    return _PARTS_OF_DAY[match.group(1)]


# "5:30 pm" is read by both clock patterns at the same place; the 12-hour one comes first.
_TIME_READERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    (_CLOCK_12H, _clock_12h),
    (_CLOCK_24H, _clock_24h),
    (_PART_OF_DAY, _part_of_day),
)


def parse_date(text: str, *, today: date) -> date | None:
    """Read the date mentioned first in `text`, relative to `today`.

    Understands "today", "tomorrow", "day after tomorrow", weekday names (the next one
    after today, so "wednesday" said on a Wednesday is a week ahead), "25th" (the next
    25th, today included), "25 november" and "november 25" (this year, or next year once
    passed) and ISO dates such as "2026-11-30".

    Args:
        text: What the customer said.
        today: The date that "today" means.

    Returns:
        The date, or None when no date was mentioned or the first one does not exist.
    """
    lowered = text.lower()
    found = [
        (match.start(), read(match, today))
        for pattern, read in _DATE_READERS
        for match in pattern.finditer(lowered)
    ]
    found.sort(key=lambda item: item[0])  # stable, so reader order breaks ties
    return found[0][1] if found else None


_HOUR_WORDS = {
    word: str(number)
    for number, word in enumerate(
        [
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ],
        start=1,
    )
}
_MINUTE_WORDS = {
    "o'clock": "00",
    "oclock": "00",
    "fifteen": "15",
    "thirty": "30",
    "forty five": "45",
}
_SPOKEN_CLOCK = re.compile(
    r"\b(" + "|".join(_HOUR_WORDS) + r")(?:\s+(" + "|".join(_MINUTE_WORDS) + r"))?\b"
    r"(?=\s*(?:a\.?m\.?|p\.?m\.?|o'?clock|in the|$))"
)


def _spoken_clock_to_digits(text: str) -> str:
    """Speech recognisers write times as words: "five thirty pm" becomes "5:30 pm"."""

    def digits(match: re.Match[str]) -> str:
        hour = _HOUR_WORDS[match.group(1)]
        minutes = match.group(2)
        if minutes is None:
            return hour
        return f"{hour}:{_MINUTE_WORDS[minutes]}"

    return _SPOKEN_CLOCK.sub(digits, text)


def parse_time(text: str) -> str | None:
    """Read the time mentioned first in `text` as "HH:MM".

    Understands "5 pm", "5:30 pm", "5 p.m.", "17:30", "noon", "midnight", "morning"
    (09:00), "afternoon" (14:00) and "evening" (18:00). A bare "at 5" is ambiguous
    and gives None.

    Args:
        text: What the customer said.

    Returns:
        The time, or None when none was mentioned.
    """
    lowered = _spoken_clock_to_digits(text.lower())
    found = [
        (match.start(), value)
        for pattern, read in _TIME_READERS
        for match in pattern.finditer(lowered)
        if (value := read(match)) is not None
    ]
    found.sort(key=lambda item: item[0])  # stable, so reader order breaks ties
    return found[0][1] if found else None


def parse_enum(text: str, options: Sequence[Any]) -> Any | None:
    """Pick the option of `options` the customer named, tolerating small slips.

    An option whose words were all said wins, the longest first; otherwise the option
    closest to some run of the customer's words, if at least 80% similar.

    Args:
        text: What the customer said.
        options: The enum values (compared as normalized text, "_" read as a space).

    Returns:
        The original option, or None when none was named.
    """
    words = normalize(text).split()
    best: tuple[float, Any] | None = None
    for option in options:
        option_words = normalize(str(option).replace("_", " ")).split()
        if not option_words:
            continue
        if all(word in words for word in option_words):
            score = 1.0 + len(option_words)
        else:
            size = len(option_words)
            phrases = [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
            score = max(
                (SequenceMatcher(None, " ".join(option_words), p).ratio() for p in phrases),
                default=0.0,
            )
            if score < 0.8:
                continue
        if best is None or score > best[0]:
            best = (score, option)
    return best[1] if best else None


def _fill_number(text: str, kind: str) -> int | float | None:
    number = parse_number(text)
    if kind == "integer" and isinstance(number, float):
        return int(number) if number.is_integer() else None
    return number


def _fill_string(text: str, schema: Mapping[str, Any], now: datetime) -> Any | None:
    if "enum" in schema:
        return parse_enum(text, schema["enum"])
    if schema.get("format") == "date":
        found = parse_date(text, today=now.date())
        return found.isoformat() if found else None
    if schema.get("format") == "time":
        return parse_time(text)
    return text.strip() or None


def _fill_one(text: str, schema: Mapping[str, Any], now: datetime) -> Any | None:
    kind = schema.get("type")
    if kind == "boolean":
        return parse_boolean(text)
    if kind in ("integer", "number"):
        return _fill_number(text, kind)
    return _fill_string(text, schema, now) if kind == "string" else None


def fill_arguments(
    text: str, properties: Mapping[str, Any], required: Sequence[str], *, now: datetime
) -> dict[str, Any]:
    """Fill JSON-schema properties from what the customer said.

    `boolean` reads yes/no words; `integer` and `number` the first number (digits or
    words up to ninety-nine); a `string` with `enum` the option named; with `format`
    "date" an ISO date and with "time" an "HH:MM" time; any other `string` takes the
    whole utterance, stripped, as free text. Other types are never filled.

    Args:
        text: What the customer said.
        properties: The function's JSON-schema `properties`.
        required: The names the schema requires. Required or not, a property that cannot
            be read from `text` is left out rather than guessed; the handler decides.
        now: The timezone-aware moment of the utterance; dates are relative to its date.

    Returns:
        The filled properties, in the order of `properties`.
    """
    filled: dict[str, Any] = {}
    for name, schema in properties.items():
        if isinstance(schema, Mapping):
            value = _fill_one(text, schema, now)
            if value is not None:
                filled[name] = value
    return filled
