"""Provider status callbacks, normalised: every provider's report becomes the same call change.

Each provider maps its own words onto `ProviderStatus`; from there one function decides what
the call row becomes. Every change goes through calls' conditional updates, so a duplicate or
out-of-order callback (Twilio may deliver `ringing` after `completed`) changes nothing.
"""

from __future__ import annotations

import enum
import logging

from calls.models import Call
from calls.services import call_advance, call_end
from calls.voice.control import call_control_send

logger = logging.getLogger(__name__)
Disposition = Call.Disposition


class ProviderStatus(enum.StrEnum):
    INITIATED = "initiated"
    RINGING = "ringing"
    ANSWERED = "answered"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"
    VOICEMAIL = "voicemail"


_ENDING: dict[ProviderStatus, str] = {
    ProviderStatus.BUSY: Disposition.BUSY,
    ProviderStatus.NO_ANSWER: Disposition.NO_ANSWER,
    ProviderStatus.FAILED: Disposition.FAILED,
    ProviderStatus.CANCELED: Disposition.CANCELED,
    ProviderStatus.VOICEMAIL: Disposition.VOICEMAIL,
}


def call_provider_id_record(*, call_id: int, provider_call_id: str) -> bool:
    """Remember the provider's id for a call, once; a later, different id is not taken."""
    updated = Call.objects.filter(pk=call_id, provider_call_id="").update(
        provider_call_id=provider_call_id
    )
    return updated == 1


def call_provider_status_apply(
    *, call: Call, provider_call_id: str, status: ProviderStatus
) -> bool:
    """Apply one provider report to `call`; False when it changes nothing (stale or foreign)."""
    if call.provider_call_id and provider_call_id != call.provider_call_id:
        logger.warning(
            "call %s: %s callback for another provider call %r ignored",
            call.pk,
            call.provider,
            provider_call_id,
        )
        return False
    if not call.provider_call_id and provider_call_id:
        # The callback can beat the REST answer that carried the id.
        call_provider_id_record(call_id=call.pk, provider_call_id=provider_call_id)
    changed = _apply(call=call, status=status)
    if not changed:
        logger.info("call %s: stale %s callback %s ignored", call.pk, call.provider, status)
    return changed


def _apply(*, call: Call, status: ProviderStatus) -> bool:
    if status is ProviderStatus.INITIATED:
        return call_advance(call_id=call.pk, status=Call.Status.DIALING)
    if status is ProviderStatus.RINGING:
        return call_advance(call_id=call.pk, status=Call.Status.RINGING)
    if status is ProviderStatus.ANSWERED:
        # In progress belongs to the worker that holds the media (it records who runs the
        # call); the provider's word only moves a call that has not got that far.
        return call_advance(call_id=call.pk, status=Call.Status.RINGING)
    if status is ProviderStatus.COMPLETED:
        # The worker normally ends the call first with the conversation's disposition; this
        # ends calls whose media never connected, or whose provider hung up under the worker.
        connected = Call.objects.filter(pk=call.pk, media_connected_at__isnull=False).exists()
        disposition = Disposition.ANSWERED if connected else Disposition.EARLY_HANGUP
        ended = call_end(call_id=call.pk, disposition=disposition, end_reason="provider_completed")
        if ended and connected:
            # The line is gone but the stream may still be open: the worker stops now rather
            # than talk to nobody until the socket closes.
            call_control_send(call_id=call.pk, message={"type": "line_ended"})
        return ended
    return call_end(call_id=call.pk, disposition=_ENDING[status], end_reason=f"provider_{status}")
