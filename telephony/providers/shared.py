"""What every real provider adapter needs: its URLs on Breeze, credentials, caller number."""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpResponse

from calls.models import Call
from calls.services import call_end
from config.selectors import provider_credential_get_active, provider_credential_secrets
from templates_app.definition.providers import provider_choice, select_number

logger = logging.getLogger(__name__)


class ProviderUnavailableError(OSError):
    """The provider could not take the request now (rate limited, server error, unreachable).

    An OSError, so `call_place` ends the attempt as a transient failure the lead retries.
    """


def xml_response(body: str) -> HttpResponse:
    """A provider's answer document (TwiML and Plivo XML alike)."""
    return HttpResponse(body, content_type="application/xml")


def public_url(path: str, **query: str) -> str:
    """An https URL under the public base URL, as the provider calls it (proxies included)."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def callback_url(*, provider: str, call_id: int, kind: str, **query: str) -> str:
    return public_url(f"/telephony/{provider}/{call_id}/{kind}/", **query)


def media_stream_url(*, provider: str, call_id: int, **query: str) -> str:
    """The call's media websocket under the public base URL (wss behind https)."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = f"/ws/media/{provider}/{call_id}/"
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def provider_secrets(*, call: Call) -> dict[str, str] | None:
    """The call's merchant's active credential for its provider, decrypted, or None."""
    credential = provider_credential_get_active(
        merchant_id=call.merchant_id, provider=call.provider
    )
    return None if credential is None else provider_credential_secrets(credential=credential)


def caller_number(*, call: Call, secrets: dict[str, str]) -> str:
    """The number to call from: the template's numbers for this provider, else the credential's."""
    execution = call.template_version.definition.get("execution", {})
    number = select_number(provider_choice(execution, provider=call.provider), call_id=call.pk)
    return secrets.get("caller_number", "") if number is None else number


def placement_refuse(*, call: Call, end_reason: str, detail: str) -> None:
    """End a call the provider refused for good (no retry can change the answer)."""
    logger.warning(
        "call %s: %s refused the call (%s): %s", call.pk, call.provider, end_reason, detail
    )
    call_end(call_id=call.pk, disposition=Call.Disposition.FAILED, end_reason=end_reason)


def callback_call(*, provider: str, call_id: int) -> Call | None:
    """The call a provider's callback names, or None (logged: the provider gets a 2xx anyway)."""
    call = Call.objects.select_related("template_version").filter(pk=call_id, provider=provider)
    found = call.first()
    if found is None:
        logger.warning("%s callback for unknown call %s ignored", provider, call_id)
    return found


def signature_refused(*, call: Call, why: str) -> None:
    logger.warning("call %s: %s callback refused: %s", call.pk, call.provider, why)


def placement_secrets(*, call: Call) -> dict[str, str] | None:
    """The credential to place `call` with; without one the call ends failed, undialled."""
    secrets = provider_secrets(call=call)
    if secrets is None:
        placement_refuse(call=call, end_reason="provider_not_configured", detail="no credential")
    return secrets
