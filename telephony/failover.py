"""Whether a failed dial request may still have reached its provider (then: no failover).

Failing over asks a second provider to ring the same customer. That is safe only when the
first provider certainly did not take the request: it answered 429 or 5xx, or the
connection was never made. A lost answer (read timeout, connection dropped mid-response)
may hide a call that is ringing now.
"""

from __future__ import annotations

import httpx
import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from telephony.providers.shared import ProviderUnavailableError

_NEVER_CONNECTED_HTTPX = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _never_connected_requests(error: requests.ConnectionError) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # NewConnectionError (refused, unresolvable host) is a ConnectTimeoutError in urllib3 2.
    return isinstance(reason, ConnectTimeoutError)


def dial_may_have_reached_provider(error: BaseException) -> bool:
    """False when the provider certainly did not take the dial request that raised `error`."""
    cause = error.__cause__ if error.__cause__ is not None else error
    if isinstance(cause, httpx.TransportError):
        return not isinstance(cause, _NEVER_CONNECTED_HTTPX)
    if isinstance(cause, requests.ConnectionError):
        return not _never_connected_requests(cause)
    if isinstance(cause, requests.RequestException):
        return True
    if isinstance(error, ProviderUnavailableError):
        # The provider answered, refusing the request for now (429 or 5xx).
        return False
    return not isinstance(error, ConnectionRefusedError)
