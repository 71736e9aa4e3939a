"""An answering machine took the call: what the provider's detection callback does.

The call ends as `voicemail` at once (the lead's retry policy sees it). Then, by the template's
`voicemail.action`: `hangup` ends the call at the provider, which stops the stream and the
worker with it; `message` tells the worker to say the message, after which it hangs up itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from calls.models import Call
from calls.voice.control import call_control_send
from telephony.events import ProviderStatus, call_provider_status_apply
from templates_app.definition.transfer import voicemail_plan

logger = logging.getLogger(__name__)


def call_voicemail_detected(
    *, call: Call, provider_call_id: str, hang_up: Callable[..., bool]
) -> bool:
    """Record the machine and act on it once; False for a stale or foreign report."""
    if not call_provider_status_apply(
        call=call, provider_call_id=provider_call_id, status=ProviderStatus.VOICEMAIL
    ):
        return False
    plan = voicemail_plan(call.template_version.definition)
    if plan is not None and plan.action == "message":
        call_control_send(call_id=call.pk, message={"type": "voicemail", "message": plan.message})
        return True
    try:
        hang_up(call=call)
    except OSError:
        # The stream stays up until the provider ends the call; the record is already right.
        logger.warning(
            "call %s: could not hang up on the answering machine", call.pk, exc_info=True
        )
    return True
