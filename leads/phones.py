"""Phone numbers: parsing what merchants send into E.164, with the merchant's country as default.

A merchant's country is the one its IANA time zone belongs to (tzdata's zone.tab: Asia/Kolkata
→ IN, America/New_York → US). Numbers written in national form ("098123 45678") are read as
numbers of that country; a merchant on UTC or another country-less zone must send the
international form (+…).
"""

from __future__ import annotations

import functools
import importlib.resources

import phonenumbers

from leads.exceptions import LeadValidationError
from leads.types import Problem


@functools.cache
def _country_by_time_zone() -> dict[str, str]:
    table = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    countries: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone, *_comment = line.split("\t")
            countries[zone] = country
    return countries


def region_for_time_zone(time_zone: str) -> str | None:
    return _country_by_time_zone().get(time_zone)


def phone_to_e164(raw: object, *, region: str | None, field: str = "phone") -> str:
    """The number in E.164, or a LeadValidationError naming `field` and what is wrong."""
    if raw is None or raw == "":
        raise LeadValidationError({field: [Problem("required", "A phone number is required.")]})
    if not isinstance(raw, str):
        raise LeadValidationError({field: [Problem("invalid", "A phone number is a string.")]})
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        hint = "" if region else " Use the international form, for example +919812345678."
        raise LeadValidationError(
            {field: [Problem("invalid_phone", f"Not a phone number.{hint}")]}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise LeadValidationError(
            {field: [Problem("invalid_phone", "Not a valid phone number for its country.")]}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
