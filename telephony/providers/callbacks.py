"""The shape every signed provider callback shares: find the call, verify, then act.

Unknown calls get a 2xx (the provider stops retrying) and a log line; a bad signature gets
403 and changes nothing; a body that names no known status or no provider call id gets 400.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.models import Call
from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.providers.shared import callback_call, provider_secrets, signature_refused
from telephony.voicemail import call_voicemail_detected

View = Callable[[HttpRequest, int], HttpResponse]


class SignatureCheck(Protocol):
    def __call__(self, *, request: HttpRequest, auth_token: str) -> bool: ...


def callback_call_verified(
    *, request: HttpRequest, provider: str, call_id: int, valid: SignatureCheck
) -> Call | HttpResponse | None:
    """The call, a 403 to answer with, or None for an unknown call."""
    call = callback_call(provider=provider, call_id=call_id)
    if call is None:
        return None
    secrets = provider_secrets(call=call)
    if secrets is None or not valid(request=request, auth_token=secrets["auth_token"]):
        signature_refused(call=call, why="bad or missing signature")
        return HttpResponse(status=403)
    return call


def status_callback_view(
    *,
    provider: str,
    statuses: Mapping[str, ProviderStatus],
    id_field: str,
    valid: SignatureCheck,
    refine: Callable[[HttpRequest, ProviderStatus], ProviderStatus] | None = None,
) -> View:
    """A status-callback view reading `CallStatus` and the provider's call id from the form."""

    @csrf_exempt
    @require_POST
    def view(request: HttpRequest, call_id: int) -> HttpResponse:
        found = callback_call_verified(
            request=request, provider=provider, call_id=call_id, valid=valid
        )
        if not isinstance(found, Call):
            return found or HttpResponse(status=204)
        status = statuses.get(request.POST.get("CallStatus", ""))
        provider_call_id = request.POST.get(id_field, "")
        if status is None or not provider_call_id:
            return HttpResponse(status=400)
        if refine is not None:
            status = refine(request, status)
        call_provider_status_apply(call=found, provider_call_id=provider_call_id, status=status)
        return HttpResponse(status=204)

    return view


def amd_callback_view(
    *,
    provider: str,
    id_field: str,
    verdict_field: str,
    machine: Callable[[str], bool],
    valid: SignatureCheck,
    hang_up: Callable[..., bool],
) -> View:
    """An answering-machine detection callback.

    A machine's verdict ends the call as voicemail and the template's `voicemail` action
    follows (telephony/voicemail.py).
    """

    @csrf_exempt
    @require_POST
    def view(request: HttpRequest, call_id: int) -> HttpResponse:
        found = callback_call_verified(
            request=request, provider=provider, call_id=call_id, valid=valid
        )
        if not isinstance(found, Call):
            return found or HttpResponse(status=204)
        provider_call_id = request.POST.get(id_field, "")
        verdict = request.POST.get(verdict_field, "")
        if not provider_call_id or not verdict:
            return HttpResponse(status=400)
        if machine(verdict):
            call_voicemail_detected(call=found, provider_call_id=provider_call_id, hang_up=hang_up)
        return HttpResponse(status=204)

    return view
