"""A warm transfer's provider callbacks, the same on every provider that has one.

The agent answered: record the call as transferred, move the customer into the conference
and brief the agent. The agent's leg ended unanswered: tell the call's worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.models import Call
from calls.services import call_end
from calls.voice.control import call_control_send
from telephony.providers.callbacks import SignatureCheck, View, callback_call_verified
from telephony.summary import call_agent_summary

logger = logging.getLogger(__name__)
CUSTOMER_LEFT = "The customer has already left the call."


def conference_name(*, call: Call) -> str:
    return f"breeze-call-{call.pk}"


def agent_answered(*, call: Call, move_customer: Callable[..., bool]) -> str | None:
    """What the agent hears before joining the conference, or None if the customer left.

    The call is recorded as transferred before the customer's leg moves (which ends the bot's
    stream), so the worker's own ending changes nothing.
    """
    if not call_end(
        call_id=call.pk, disposition=Call.Disposition.TRANSFERRED, end_reason="transferred"
    ):
        return None
    if not move_customer(call=call):
        logger.warning("call %s: the customer left before joining the agent", call.pk)
        return None
    call.refresh_from_db()
    return call_agent_summary(call=call)


def agent_status_view(
    *, provider: str, valid: SignatureCheck, statuses: Container[str], unanswered: frozenset[str]
) -> View:
    """The agent leg's status (hang-up) callback: if they never answered, the worker is told.

    `statuses` are the provider's known `CallStatus` words (others get 400); `unanswered`
    those that mean nobody picked up. A duplicate report pushes a second message, which the
    worker ignores once it has stopped holding the customer.
    """

    @csrf_exempt
    @require_POST
    def view(request: HttpRequest, call_id: int) -> HttpResponse:
        found = callback_call_verified(
            request=request, provider=provider, call_id=call_id, valid=valid
        )
        if not isinstance(found, Call):
            return found or HttpResponse(status=204)
        status = request.POST.get("CallStatus", "")
        if status not in statuses:
            return HttpResponse(status=400)
        if status in unanswered and found.status != Call.Status.ENDED:
            logger.info("call %s: the transfer's agent did not answer (%s)", found.pk, status)
            call_control_send(call_id=found.pk, message={"type": "transfer_unanswered"})
        return HttpResponse(status=204)

    return view
