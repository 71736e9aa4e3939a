"""Reading just enough of a provider's stream to authenticate it; audio is never parsed here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

PROVIDERS = frozenset({"twilio", "plivo", "exotel", "simulator"})


def parse_event(message: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(message)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def is_start(event: Mapping[str, Any]) -> bool:
    return event.get("event") == "start" and isinstance(event.get("start"), dict)


def token_from(*, query_string: bytes, start: Mapping[str, Any]) -> str:
    """The media token: in the URL's query, or where each provider carries custom data."""
    query = parse_qs(query_string.decode(errors="replace")).get("token")
    if query:
        return query[0]
    body = start.get("start", {})
    for key in ("customParameters", "custom_parameters"):
        parameters = body.get(key)
        if isinstance(parameters, dict) and isinstance(parameters.get("token"), str):
            return str(parameters["token"])
    headers = body.get("extra_headers") or start.get("extra_headers")
    if isinstance(headers, str):
        for part in headers.replace(";", ",").split(","):
            name, _, value = part.partition("=")
            if name.strip() == "token":
                return value.strip()
    return ""
