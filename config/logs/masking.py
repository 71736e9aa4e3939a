"""Masks phone numbers and secrets in log lines, tracebacks included.

Applied as a filter on the root handlers, so every logger's records pass through it
before any formatter sees them.
"""

from __future__ import annotations

import logging
import re

MASK = "***"

# Order matters: secrets first, so a token's digits are never half-masked as a phone.
_SECRETS: list[tuple[re.Pattern[str], str]] = [
    # Authorization / Proxy-Authorization header values, whatever the scheme.
    (
        re.compile(
            r"(?i)((?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?(?:(?:bearer|basic|token)\s+)?)"
            r"[^\s;'\",}]+"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"\bbrz_[A-Za-z0-9_\-]+"), "brz_" + MASK),
    # JWTs: three base64url parts, the first two starting with `eyJ` ('{"').
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "<jwt>" + MASK),
    # token=, access_token=, api_key=, secret=, password= in query strings and key=value text.
    (
        re.compile(
            r"(?i)((?<![\w-])[\w-]*?(?:token|api_?key|secret|password|signature))"
            r"(=|['\"]?\s*:\s*['\"]?)[^\s&;'\",}]+"
        ),
        r"\1\2" + MASK,
    ),
]
# E.164 (+ and 8-15 digits, separators allowed) and local formats of 10+ digits such as
# 098765 43210, (415) 555-0134, 415-555-0134. The last two digits stay for support.
_PHONE = re.compile(
    r"(?<![\w+.-])(?:\+\d[\d\s().-]{6,18}\d|\(?\d{3,5}\)?[\s.-]?\d{3,5}[\s.-]?\d{3,5})(?!\w)"
)


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if len(digits) < 8 or len(digits) > 15:
        return text
    return MASK + digits[-2:]


def mask(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return _PHONE.sub(_mask_phone, text)


_exception_formatter = logging.Formatter()


class MaskingFilter(logging.Filter):
    """Replaces a record's message, traceback and stack with their masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_breeze_masked", False):
            return True
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        record._breeze_masked = True
        return True
