"""A JSON parser that enforces the body limit and refuses what parses but cannot be stored."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# `\ud800`…`\udfff` written as a JSON escape: the only way a surrogate reaches a parsed string.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A number that may overflow a float to infinity (1e400, or 309 digits before the point):
# PostgreSQL's JSON has no infinity, so storing it fails.
_HUGE_NUMBER = re.compile(rb"[eE]\+?0*[1-9][0-9]{2,}|[0-9]{309,}")
# Arrays and objects inside each other; the demo templates reach 9. Deeper input would make
# the recursive checks and encoders after parsing raise RecursionError (a 500).
MAX_JSON_DEPTH = 64


class LimitedJSONParser(JSONParser):
    """Refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 413, reading at most that much.

    Django checks the limit only when `request.body` is read; DRF parses from the raw stream,
    so without this a client could make the server hold an arbitrarily large JSON document.

    JSON may also spell half of a surrogate pair (U+D800 to U+DFFF) as an escape. Python
    parses it into a string that cannot be encoded and PostgreSQL refuses, so a lead stored
    through the fast paths (which skip DRF's CharField checks) would fail with a 500. It is
    refused here as malformed input, naming where it is.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            # The same error Django raises for form bodies; the API's handler answers 413.
            raise RequestDataTooBig(f"The request body is larger than {limit} bytes.")
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError as error:
            raise ParseError(_TOO_DEEP) from error
        if _deeper_than(data, MAX_JSON_DEPTH):
            raise ParseError(_TOO_DEEP)
        # The byte searches keep the common case to one regex pass each; only a body that
        # may hold the problem is walked. Escaped pairs (an emoji as `\ud83d\ude80`) parse
        # into one character, so any surrogate left is a lone half.
        if _SURROGATE_ESCAPE.search(body):
            for path in _paths_where(data, "", _is_lone_surrogate):
                raise ParseError(
                    f"JSON parse error - {path or 'the body'} holds half of a surrogate pair "
                    "(U+D800 to U+DFFF), which is not Unicode text."
                )
        if _HUGE_NUMBER.search(body):
            for path in _paths_where(data, "", _is_infinite):
                raise ParseError(
                    f"JSON parse error - {path or 'the body'} holds a number too large for a float (over 1.8e308), "
                    "which parses as infinity and cannot be stored."
                )
        return data


_TOO_DEEP = f"JSON parse error - arrays and objects nested deeper than {MAX_JSON_DEPTH} levels."


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit` (the body itself is level 1).

    Level by level, without recursion: about 6 ms of CPU for a 10,000-lead bulk body.
    """
    level = [value] if type(value) in (dict, list) else []
    for _ in range(limit):
        deeper = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
        if not deeper:
            return False
        level = deeper
    return True


def _is_lone_surrogate(value: Any) -> bool:
    return isinstance(value, str) and _SURROGATE.search(value) is not None


def _is_infinite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _paths_where(value: Any, path: str, bad: Callable[[Any], bool]) -> Iterator[str]:
    """Dotted paths of the values (and object keys) `bad` picks; depth is bounded already."""
    if isinstance(value, dict):
        for key, item in value.items():
            if bad(key):
                yield path
            yield from _paths_where(item, f"{path}.{key}" if path else str(key), bad)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths_where(item, f"{path}.{index}" if path else str(index), bad)
    elif bad(value):
        yield path
