"""`{name}` placeholders: finding them, filling them, and checking a lead's payload against them.

Values come from, first match wins: the lead's payload, the template's secrets, the merchant's
secrets, then the call's built-ins. An unresolved placeholder stays as literal text; there is
no escape syntax and no recursion (a value containing `{x}` is not filled again).
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from templates_app.types import Issue

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Filled by Breeze for every call, so templates may use them without declaring them.
BUILTIN_VARIABLES = ("merchant_name", "customer_phone", "call_id")


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def render(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


# The part of a URL before its path: `scheme://host[:port]`, then the first `/`, `?` or `#`.
_URL_AUTHORITY_ENDED = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*[/?#]")


def render_url(url: str, values: Mapping[str, str]) -> str:
    """Fill placeholders into a URL, percent-encoding each value placed in its path or query.

    A value is data, not URL syntax: `+91…` must stay a plus sign and `a/b` one path segment,
    so every character but letters, digits and `-._~` is encoded. A placeholder before the
    path (a base URL or host from a secret, say `{api_base}/orders`) is filled as written,
    since it is meant to be URL syntax. The template's own text is never changed.
    """
    parts: list[str] = []
    end = 0
    for match in PLACEHOLDER.finditer(url):
        parts.append(url[end : match.start()])
        end = match.end()
        value = values.get(match.group(1))
        if value is None:
            parts.append(match.group(0))
        elif _URL_AUTHORITY_ENDED.match("".join(parts)):
            parts.append(urllib.parse.quote(value, safe=""))
        else:
            parts.append(value)
    parts.append(url[end:])
    return "".join(parts)


def render_deep(value: Any, values: Mapping[str, str]) -> Any:
    """Fill placeholders in every string inside nested dicts and lists (HTTP headers, bodies)."""
    if isinstance(value, str):
        return render(value, values)
    if isinstance(value, Mapping):
        return {key: render_deep(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render_deep(item, values) for item in value]
    return value


def strings_with_paths(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings_with_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings_with_paths(item, f"{path}[{index}]")


def variable_pool(
    *,
    payload: Mapping[str, Any],
    template_secrets: Mapping[str, str],
    merchant_secrets: Mapping[str, str],
    builtins: Mapping[str, str],
) -> dict[str, str]:
    pool: dict[str, str] = {}
    for layer in (builtins, merchant_secrets, template_secrets, payload):
        pool.update({key: _as_text(value) for key, value in layer.items()})
    return pool


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _is_date(value: Any) -> bool:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


_TYPE_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda value: isinstance(value, str), "must be a string"),
    "boolean": (lambda value: isinstance(value, bool), "must be true or false"),
    "integer": (
        lambda value: isinstance(value, int) and not isinstance(value, bool),
        "must be an integer",
    ),
    "number": (
        lambda value: isinstance(value, int | float) and not isinstance(value, bool),
        "must be a number",
    ),
    "date": (_is_date, "must be a date like 2026-11-25"),
}


def example_payload(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A lead payload made of each declared variable's example, for trying a template out."""
    return {
        variable["name"]: variable.get("example", "")
        for variable in definition.get("variables", [])
    }


def payload_issues(*, definition: Mapping[str, Any], payload: Any) -> list[Issue]:
    """Why a lead's payload cannot be used with this definition; empty when it can.

    Required variables must be present and non-empty; every declared variable that is present
    must have its declared type. Undeclared keys are allowed (merchants send extra context)
    unless the definition sets `variables_strict`.
    """
    if not isinstance(payload, Mapping):
        return [Issue("$", "payload must be a JSON object")]
    issues = []
    for variable in definition.get("variables", []):
        name, kind = variable["name"], variable["type"]
        path = f"$.{name}"
        value = payload.get(name)
        if value is None or value == "":
            if variable.get("required", False):
                issues.append(Issue(path, f"{name} is required by this template"))
            continue
        is_valid, problem = _TYPE_CHECKS[kind]
        if not is_valid(value):
            issues.append(Issue(path, f"{name} {problem}"))
    if definition.get("variables_strict", False):
        declared = {variable["name"] for variable in definition.get("variables", [])}
        issues.extend(
            Issue(f"$.{key}", f"{key} is not a variable of this template")
            for key in payload
            if key not in declared
        )
    return issues
