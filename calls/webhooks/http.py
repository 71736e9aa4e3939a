"""One signed POST of an event, and what came back."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import datetime

import urllib3
from django.conf import settings
from django.utils import timezone

from calls.webhooks.signing import signature_header
from config.ids import parse_id

RESPONSE_BODY_LIMIT = 2000
# One pool per process keeps connections to busy receivers open (urllib3 is thread-safe).
_pool = urllib3.PoolManager(num_pools=200, maxsize=8, retries=False)


@dataclass(frozen=True)
class PostResult:
    status_code: int | None = None
    body: str = ""
    error: str = ""
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        if self.status_code is None:
            return True  # network error or timeout
        return self.status_code in {408, 429} or self.status_code >= 500

    def describe(self) -> str:
        if self.status_code is None:
            return self.error
        return f"HTTP {self.status_code}: {self.body[:200]}".strip()


def _retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    if (seconds := parse_id(value.strip())) is not None:
        return float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def event_post(
    *, url: str, body: bytes, event_id: str, event_type: str, secrets: list[str]
) -> PostResult:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Breeze-Webhooks/1",
        "Breeze-Event-Id": event_id,
        "Breeze-Event-Type": event_type,
        "Breeze-Timestamp": str(timestamp),
        "Breeze-Signature": signature_header(secrets=secrets, timestamp=timestamp, body=body),
    }
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS, read=settings.WEBHOOK_READ_TIMEOUT_SECONDS
    )
    try:
        response = _pool.request(
            "POST",
            url,
            body=body,
            headers=headers,
            timeout=timeout,
            redirect=False,
            preload_content=False,
        )
        try:
            received = response.read(RESPONSE_BODY_LIMIT)
        finally:
            # A body longer than we read would corrupt the next request on this connection.
            if response.read(1):
                response.close()
            else:
                response.release_conn()
    except urllib3.exceptions.NewConnectionError as error:
        # Checked first: urllib3 makes a refused connection a subclass of a connect timeout.
        return PostResult(error=f"{type(error).__name__}: {error}"[:500])
    except urllib3.exceptions.ConnectTimeoutError:
        return PostResult(error="timeout: connecting")
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return PostResult(error="timeout: reading the answer")
    except urllib3.exceptions.HTTPError as error:
        return PostResult(error=f"{type(error).__name__}: {error}"[:500])
    return PostResult(
        status_code=response.status,
        body=received.decode(errors="replace"),
        retry_after=_retry_after(response.headers.get("Retry-After"), now=timezone.now()),
    )
