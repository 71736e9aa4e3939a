"""HTTP calls a template makes (global functions and hooks), with auth, timeouts and retries."""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from templates_app.definition.variables import render, render_deep, render_url

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    timeout: float = 10.0
    retries: int = 2


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: Any
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


def http_request_from_config(config: dict[str, Any], variables: dict[str, str]) -> HttpRequest:
    """Fill `{variables}` into a template's http block and turn its auth into headers.

    Values in the URL's path and query are percent-encoded (`render_url`); headers and body
    take them as they are.
    """
    headers = {key: render(value, variables) for key, value in config.get("headers", {}).items()}
    auth = render_deep(config.get("auth", {"type": "none"}), variables)
    if auth["type"] == "bearer":
        headers["Authorization"] = f"Bearer {auth['token']}"
    elif auth["type"] == "basic":
        pair = f"{auth['username']}:{auth['password']}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    elif auth["type"] == "api_key":
        headers[auth["header"]] = auth["value"]
    return HttpRequest(
        method=config.get("method", "POST"),
        url=render_url(config["url"], variables),
        headers=headers,
        body=render_deep(config.get("body"), variables),
        timeout=float(config.get("timeout", 10)),
        retries=int(config.get("retries", 2)),
    )


async def send_http_request(request: HttpRequest, *, backoff: float = 0.25) -> HttpResult:
    """Send with retries on network errors, timeouts, 408, 429 and 5xx; never raises."""
    payload: dict[str, Any] = {}
    if isinstance(request.body, dict | list):
        payload["json"] = request.body
    elif isinstance(request.body, str):
        payload["content"] = request.body
    last = HttpResult(status=0, body=None, error="not sent")
    async with httpx.AsyncClient(timeout=request.timeout) as client:
        for attempt in range(request.retries + 1):
            if attempt:
                await asyncio.sleep(backoff * 2 ** (attempt - 1))
            try:
                response = await client.request(
                    request.method, request.url, headers=request.headers, **payload
                )
            except httpx.HTTPError as error:
                last = HttpResult(status=0, body=None, error=f"{type(error).__name__}: {error}")
                logger.warning(
                    "template http %s %s failed: %s", request.method, request.url, last.error
                )
                continue
            last = HttpResult(status=response.status_code, body=_decode(response))
            if response.status_code not in RETRYABLE_STATUS:
                return last
    return last


def _decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]
