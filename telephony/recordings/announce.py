"""A provider's callback announcing a finished recording: remember it, download it after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.models import Call
from calls.recordings.services import recording_register_provider
from telephony.providers.callbacks import SignatureCheck, View, callback_call_verified

logger = logging.getLogger(__name__)


def recording_announced(
    *, call: Call, provider_call_id: str, provider_recording_id: str, duration_seconds: float | None
) -> bool:
    """Register the recording and queue its download; False for a foreign or repeated callback."""
    from telephony.recordings.tasks import recording_download_task

    if call.provider_call_id and provider_call_id != call.provider_call_id:
        logger.warning(
            "call %s: %s recording for another provider call %r ignored",
            call.pk,
            call.provider,
            provider_call_id,
        )
        return False
    recording = recording_register_provider(
        call_id=call.pk,
        source=call.provider,
        provider_recording_id=provider_recording_id,
        duration_seconds=duration_seconds,
    )
    if recording is None:
        logger.info("call %s: repeated %s recording callback ignored", call.pk, call.provider)
        return False
    recording_id = recording.pk
    transaction.on_commit(lambda: recording_download_task.delay(recording_id))
    return True


def seconds(value: str) -> float | None:
    """A duration field from a callback form ("12", "12.5"); None when absent or not a number."""
    try:
        parsed = float(value)
    except ValueError:
        return None
    return parsed if parsed >= 0 else None


def recording_callback_view(
    *,
    provider: str,
    valid: SignatureCheck,
    recording_field: str,
    call_field: str,
    ready: Callable[[HttpRequest], bool] = lambda request: True,
) -> View:
    """A signed recording callback: 204 once handled, 400 without the ids it needs.

    `ready` tells a finished recording from the provider's other reports about it.
    """

    @csrf_exempt
    @require_POST
    def view(request: HttpRequest, call_id: int) -> HttpResponse:
        found = callback_call_verified(
            request=request, provider=provider, call_id=call_id, valid=valid
        )
        if not isinstance(found, Call):
            return found or HttpResponse(status=204)
        recording_id = request.POST.get(recording_field, "")
        provider_call_id = request.POST.get(call_field, "")
        if not recording_id or not provider_call_id:
            return HttpResponse(status=400)
        if ready(request):
            recording_announced(
                call=found,
                provider_call_id=provider_call_id,
                provider_recording_id=recording_id,
                duration_seconds=seconds(request.POST.get("RecordingDuration", "")),
            )
        return HttpResponse(status=204)

    return view
