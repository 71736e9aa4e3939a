"""Fill extraction fields with an OpenAI-compatible chat completions model.

One request, no streaming: the model is made to call one tool, `record_fields`, whose
arguments are the fields. Anything else (an error status, a timeout, a body that is not the
documented shape, arguments that are not a JSON object) is an `ExtractionLLMError`, and the
caller falls back to the rules engine. Values of the wrong type are dropped one by one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import urllib3
from django.conf import settings

from calls.extraction.rules import TranscriptTurn
from config.types import PROVIDER_REQUIRED_SECRETS
from templates_app.definition.extraction import ExtractionField

TOOL_NAME = "record_fields"
# The providers extraction can ask; any other (the rules engine, say) means no model.
LLM_PROVIDERS = frozenset({"openai", "azure_openai"})
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_pool = urllib3.PoolManager(num_pools=20, maxsize=4, retries=False)

SYSTEM_PROMPT = (
    "You read the transcript of a phone call between a company's voice bot and a customer, "
    f"and call {TOOL_NAME} exactly once with the fields the customer's own words settle. "
    "Use null for a field the call does not settle; never guess. Dates are YYYY-MM-DD and "
    "times HH:MM (24-hour), resolved against the date and time zone of the call."
)


class ExtractionLLMError(Exception):
    """The model gave no usable answer; the message says why, for the call's record."""


@dataclass(frozen=True)
class LLMTarget:
    """Where one extraction request goes, and as which model."""

    url: str
    headers: dict[str, str]
    model: str
    temperature: float | None = None


@dataclass
class LLMAnswer:
    fields: dict[str, Any]
    errors: list[str] = field(default_factory=list)


def llm_target(
    llm: Mapping[str, Any], credentials: Mapping[str, Mapping[str, str]]
) -> LLMTarget | None:
    """The endpoint for the call's `llm` config section; None when it names no model.

    Raises:
        ExtractionLLMError: The provider's credentials are missing.
    """
    provider = str(llm.get("provider") or "")
    if provider not in LLM_PROVIDERS:
        return None
    secrets = credentials.get(provider) or {}
    missing = [key for key in PROVIDER_REQUIRED_SECRETS[provider] if not secrets.get(key)]
    if missing:
        raise ExtractionLLMError(f"{provider} credentials need {', '.join(missing)}")
    model = str(llm.get("model") or "gpt-4o")
    temperature = llm.get("temperature")
    temperature = float(temperature) if isinstance(temperature, int | float) else None
    if provider == "openai":
        base = (secrets.get("base_url") or settings.BREEZE_OPENAI_BASE_URL).rstrip("/")
        return LLMTarget(
            url=f"{base}/chat/completions",
            headers={"Authorization": f"Bearer {secrets['api_key']}"},
            model=model,
            temperature=temperature,
        )
    version = secrets.get("api_version") or settings.BREEZE_AZURE_OPENAI_API_VERSION
    return LLMTarget(
        url=(
            f"{secrets['endpoint'].rstrip('/')}/openai/deployments/{quote(model)}"
            f"/chat/completions?api-version={quote(version)}"
        ),
        headers={"api-key": secrets["api_key"]},
        model=model,
        temperature=temperature,
    )


def _transcript(turns: Sequence[TranscriptTurn], *, call_time: datetime) -> str:
    # The IANA name, not an abbreviation such as "IST" that several zones share.
    zone = getattr(call_time.tzinfo, "key", None) or call_time.tzname()
    lines = [f"The call took place on {call_time:%A %Y-%m-%d at %H:%M} (time zone {zone}).", ""]
    lines += [f"{'Customer' if t.speaker == 'customer' else 'Bot'}: {t.text}" for t in turns]
    return "\n".join(lines)


def _tool(fields: Sequence[ExtractionField]) -> dict[str, Any]:
    properties = {}
    for item in fields:
        schema = item.json_schema()
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        properties[item.name] = schema
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": "Record the fields this call settles.",
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": [item.name for item in fields],
                "additionalProperties": False,
            },
        },
    }


def request_body(
    target: LLMTarget,
    fields: Sequence[ExtractionField],
    turns: Sequence[TranscriptTurn],
    *,
    instructions: str,
    call_time: datetime,
) -> dict[str, Any]:
    system = f"{SYSTEM_PROMPT}\n\n{instructions}" if instructions else SYSTEM_PROMPT
    body: dict[str, Any] = {
        "model": target.model,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": _transcript(turns, call_time=call_time)},
        ],
        "tools": [_tool(fields)],
        "tool_choice": {"type": "function", "function": {"name": TOOL_NAME}},
    }
    if target.temperature is not None:
        body["temperature"] = target.temperature
    return body


def _post(target: LLMTarget, body: dict[str, Any], *, timeout: float) -> Any:
    try:
        response = _pool.request(
            "POST",
            target.url,
            body=json.dumps(body).encode(),
            headers={**target.headers, "Content-Type": "application/json"},
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
        )
    except urllib3.exceptions.TimeoutError as error:
        raise ExtractionLLMError(f"no answer within {timeout:g}s") from error
    except urllib3.exceptions.HTTPError as error:
        raise ExtractionLLMError(f"could not reach the LLM: {type(error).__name__}") from error
    if response.status != 200:
        raise ExtractionLLMError(f"the LLM answered HTTP {response.status}")
    try:
        return json.loads(response.data)
    except ValueError as error:
        raise ExtractionLLMError("the LLM's answer is not JSON") from error


def _arguments(answer: Any) -> dict[str, Any]:
    try:
        calls = answer["choices"][0]["message"]["tool_calls"]
        call = next(c for c in calls if c["function"]["name"] == TOOL_NAME)
        arguments = json.loads(call["function"]["arguments"])
    except (KeyError, IndexError, TypeError, StopIteration) as error:
        raise ExtractionLLMError(f"the LLM did not call {TOOL_NAME}") from error
    except ValueError as error:
        raise ExtractionLLMError(f"the {TOOL_NAME} arguments are not JSON") from error
    if not isinstance(arguments, dict):
        raise ExtractionLLMError(f"the {TOOL_NAME} arguments are not a JSON object")
    return arguments


def _type_error(item: ExtractionField, value: Any) -> str | None:
    """Why `value` cannot be this field's value, or None when it can."""
    expected = {
        "boolean": bool,
        "integer": int,
        "number": int | float,
        "string": str,
        "date": str,
        "time": str,
    }[item.type]
    if not isinstance(value, expected) or (item.type != "boolean" and isinstance(value, bool)):
        return f"expected {item.type}, got {json.dumps(value)}"
    if item.options and value not in item.options:
        return f"{json.dumps(value)} is not one of {', '.join(item.options)}"
    if item.type == "time" and not _TIME.match(value):
        return f"{json.dumps(value)} is not a time (HH:MM)"
    if item.type == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return f"{json.dumps(value)} is not a date (YYYY-MM-DD)"
    return None


def llm_extract(
    target: LLMTarget,
    fields: Sequence[ExtractionField],
    turns: Sequence[TranscriptTurn],
    *,
    instructions: str,
    call_time: datetime,
    timeout: float,
) -> LLMAnswer:
    """Ask the model; every field is in the answer (None where it settled nothing)."""
    body = request_body(target, fields, turns, instructions=instructions, call_time=call_time)
    arguments = _arguments(_post(target, body, timeout=timeout))
    answer = LLMAnswer(fields={})
    for item in fields:
        value = arguments.get(item.name)
        problem = None if value is None else _type_error(item, value)
        if problem:
            answer.errors.append(f"llm: {item.name}: {problem}; left empty")
        answer.fields[item.name] = None if problem else value
    unknown = sorted(set(arguments) - {item.name for item in fields})
    if unknown:
        answer.errors.append(f"llm: ignored unknown fields {', '.join(unknown)}")
    return answer
