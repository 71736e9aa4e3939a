"""Exotel's REST API over plain HTTP (there is no official Python SDK): place a call, read it.

Exotel has no call to hang up a live voicebot session: the bot ends its part by closing the
stream, and the Exotel flow's next applet (hang up, or connect to an agent) takes over.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from django.conf import settings

from calls.models import Call
from telephony.events import call_provider_id_record
from telephony.providers.exotel.signature import exotel_call_secret
from telephony.providers.shared import (
    ProviderUnavailableError,
    callback_url,
    caller_number,
    placement_refuse,
    placement_secrets,
    provider_secrets,
)

logger = logging.getLogger(__name__)
# Exotel answers 400 for a number it cannot dial and 403 for one the account may not call.
_PERMANENT = {400: "invalid_number", 403: "number_not_allowed"}


def _api(*, secrets: dict[str, str], path: str) -> str:
    root = settings.EXOTEL_API_BASE_URL or f"https://{secrets['subdomain']}"
    return f"{root.rstrip('/')}/v1/Accounts/{secrets['account_sid']}/{path}"


def _request(secrets: dict[str, str], method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        response = httpx.request(
            method,
            _api(secrets=secrets, path=path),
            auth=(secrets["api_key"], secrets["api_token"]),
            timeout=settings.TELEPHONY_HTTP_TIMEOUT,
            **kwargs,
        )
    except httpx.TransportError as error:
        raise ProviderUnavailableError(f"Exotel unreachable: {error}") from error
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderUnavailableError(f"Exotel answered {response.status_code}")
    return response


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["RestException"]["Message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def exotel_place(call: Call) -> None:
    """Ask Exotel to dial the customer into the merchant's flow.

    The flow's voicebot applet then asks Breeze for the call's stream URL (answer.py).
    """
    secrets = placement_secrets(call=call)
    if secrets is None:
        return
    secret = exotel_call_secret(call_id=call.pk)
    form = {
        "From": call.customer_phone,
        "CallerId": caller_number(call=call, secrets=secrets),
        "Url": secrets.get("flow_url", ""),
        # Handed to the flow's voicebot applet, which asks Breeze for the stream with it.
        "CustomField": f"{call.pk}.{secret}",
        "StatusCallback": callback_url(provider="exotel", call_id=call.pk, kind=f"{secret}/status"),
        "StatusCallbackContentType": "application/json",
        "StatusCallbackEvents[0]": "terminal",
        "StatusCallbackEvents[1]": "answered",
    }
    response = _request(secrets, "POST", "Calls/connect.json", data=form)
    if response.status_code >= 400:
        reason = _PERMANENT.get(response.status_code, "provider_rejected")
        placement_refuse(call=call, end_reason=reason, detail=_error_message(response))
        return
    try:
        sid = str(response.json()["Call"]["Sid"])
    except (ValueError, KeyError, TypeError):
        # Exotel took the call; its status callback will name it.
        logger.warning("call %s: Exotel accepted the call with an unreadable body", call.pk)
        return
    call_provider_id_record(call_id=call.pk, provider_call_id=sid)


def exotel_fetch_status(*, call: Call) -> str | None:
    """Exotel's own word for the call's state (queued, in-progress, completed, …)."""
    secrets = provider_secrets(call=call)
    if secrets is None or not call.provider_call_id:
        return None
    response = _request(secrets, "GET", f"Calls/{call.provider_call_id}.json")
    if response.status_code >= 400:
        return None
    try:
        return str(response.json()["Call"]["Status"])
    except (ValueError, KeyError, TypeError):
        return None


def exotel_transfer(*, call: Call, number: str) -> bool:
    """Nothing to ask Exotel: when the bot closes the stream the flow's next applet runs.

    A Connect applet there, with its dynamic URL set to Breeze's, dials the template's
    transfer number (answer.py). Only a call Exotel has named can be handed on.
    """
    return bool(call.provider_call_id)
