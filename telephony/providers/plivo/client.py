"""Plivo's REST API through the official SDK: place a call, hang up, read its status, transfer."""

from __future__ import annotations

import logging
from typing import Any

import plivo
from django.conf import settings
from plivo.exceptions import PlivoRestError, ResourceNotFoundError
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from calls.models import Call
from telephony.providers.shared import (
    ProviderUnavailableError,
    callback_url,
    caller_number,
    placement_refuse,
    placement_secrets,
    provider_secrets,
)
from templates_app.definition.transfer import voicemail_plan

logger = logging.getLogger(__name__)
PLIVO_ROOT = "https://api.plivo.com"
# Plivo answers 400 for a destination it cannot dial and 403 for a barred country.
_PERMANENT = {400: "invalid_number", 403: "number_not_allowed"}


class _PlivoTransport(HTTPAdapter):
    """Sends the SDK's requests to the configured API root and keeps the last status code.

    The SDK hard-codes api.plivo.com and folds status codes into exception types; the code
    is what tells a transient refusal (429, 5xx) from a permanent one.
    """

    last_status: int | None = None

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        root = settings.PLIVO_API_BASE_URL.rstrip("/")
        if request.url and root != PLIVO_ROOT and request.url.startswith(PLIVO_ROOT):
            request.url = root + request.url[len(PLIVO_ROOT) :]
        response = super().send(request, *args, **kwargs)
        self.last_status = response.status_code
        return response


def plivo_client(*, secrets: dict[str, str]) -> tuple[Any, _PlivoTransport]:
    client = plivo.RestClient(
        secrets["auth_id"], secrets["auth_token"], timeout=settings.TELEPHONY_HTTP_TIMEOUT
    )
    transport = _PlivoTransport()
    client.session.mount(PLIVO_ROOT, transport)
    return client, transport


def _raise_if_transient(error: PlivoRestError, transport: _PlivoTransport) -> None:
    status = transport.last_status
    if status is not None and (status == 429 or status >= 500):
        raise ProviderUnavailableError(f"Plivo answered {status}: {error}") from error


def plivo_place(call: Call) -> None:
    """Ask Plivo to dial; Plivo reports the call's own id (CallUUID) in its first callback."""
    secrets = placement_secrets(call=call)
    if secrets is None:
        return
    status_url = callback_url(provider="plivo", call_id=call.pk, kind="status")
    try:
        client, transport = plivo_client(secrets=secrets)
    except PlivoRestError as error:
        # The SDK refuses an auth id of the wrong shape before any request.
        placement_refuse(call=call, end_reason="provider_rejected", detail=str(error))
        return
    try:
        created = client.calls.create(
            from_=caller_number(call=call, secrets=secrets),
            to_=call.customer_phone,
            answer_url=callback_url(provider="plivo", call_id=call.pk, kind="answer"),
            answer_method="POST",
            ring_url=status_url,
            hangup_url=status_url,
            **_machine_detection(call),
        )
    except PlivoRestError as error:
        _raise_if_transient(error, transport)
        reason = _PERMANENT.get(transport.last_status or 0, "provider_rejected")
        placement_refuse(call=call, end_reason=reason, detail=str(error))
        return
    logger.info("call %s: Plivo request %s", call.pk, getattr(created, "request_uuid", ""))


def _machine_detection(call: Call) -> dict[str, str]:
    """Asynchronous machine detection when the template asks what to do on a machine."""
    if voicemail_plan(call.template_version.definition) is None:
        return {}
    return {
        "machine_detection": "true",
        "machine_detection_url": callback_url(provider="plivo", call_id=call.pk, kind="amd"),
        "machine_detection_method": "POST",
    }


def plivo_hang_up(*, call: Call) -> bool:
    """End the call at Plivo; False if Plivo no longer has it live."""
    secrets = provider_secrets(call=call)
    if secrets is None or not call.provider_call_id:
        return False
    client, transport = plivo_client(secrets=secrets)
    try:
        client.calls.hangup(call.provider_call_id)
    except ResourceNotFoundError:
        return False
    except PlivoRestError as error:
        _raise_if_transient(error, transport)
        return False
    return True


def plivo_fetch_status(*, call: Call) -> str | None:
    """Plivo's own word for a live call's state (ringing, in-progress, …); None when not live."""
    secrets = provider_secrets(call=call)
    if secrets is None or not call.provider_call_id:
        return None
    client, transport = plivo_client(secrets=secrets)
    try:
        live = client.live_calls.get(call.provider_call_id)
    except ResourceNotFoundError:
        return None
    except PlivoRestError as error:
        _raise_if_transient(error, transport)
        return None
    return str(live.call_status)


def plivo_transfer(*, call: Call, number: str) -> bool:
    """Cold transfer: Plivo fetches new XML for the customer's leg (a `<Dial>` to `number`).

    The number rides in the transfer URL's query, which the V3 signature covers. False if
    Plivo no longer has the call live.
    """
    return _transfer_leg(
        call=call, url=callback_url(provider="plivo", call_id=call.pk, kind="transfer", to=number)
    )


def _transfer_leg(*, call: Call, url: str) -> bool:
    """The customer's live leg runs the XML at `url`; False if Plivo no longer has it live."""
    secrets = provider_secrets(call=call)
    if secrets is None or not call.provider_call_id:
        return False
    client, transport = plivo_client(secrets=secrets)
    try:
        client.calls.transfer(call.provider_call_id, legs="aleg", aleg_url=url, aleg_method="POST")
    except ResourceNotFoundError:
        return False
    except PlivoRestError as error:
        _raise_if_transient(error, transport)
        return False
    return True


def plivo_agent_dial(*, call: Call, number: str, ring_timeout: int) -> bool:
    """Warm transfer, first step: ring the agent while the bot holds the customer.

    When the agent answers, Plivo fetches the agent-answer URL, which briefs the agent and
    moves the customer into the conference; the agent leg's hang-up URL reports how it ended
    (`no-answer`, `timeout` after `ring_timeout`, …). False if Plivo refused the dial.
    """
    secrets = provider_secrets(call=call)
    if secrets is None:
        return False
    client, transport = plivo_client(secrets=secrets)
    try:
        client.calls.create(
            from_=caller_number(call=call, secrets=secrets),
            to_=number,
            answer_url=callback_url(provider="plivo", call_id=call.pk, kind="transfer/agent"),
            answer_method="POST",
            hangup_url=callback_url(provider="plivo", call_id=call.pk, kind="transfer/status"),
            hangup_method="POST",
            ring_timeout=ring_timeout,
        )
    except PlivoRestError as error:
        _raise_if_transient(error, transport)
        return False
    return True


def plivo_customer_to_conference(*, call: Call) -> bool:
    """Warm transfer, last step: the customer's leg fetches the conference XML.

    Transferring the leg ends its stream, so the bot leaves. False if Plivo no longer has the
    customer's call live.
    """
    return _transfer_leg(
        call=call, url=callback_url(provider="plivo", call_id=call.pk, kind="transfer/conference")
    )
