"""A web or mobile client connects to its Daily lead: the lead's session starts, and it is dialing.

A DAILY or DAILY_TEST lead is never dialled (it waits `queued`, docs/dispatch.md); the client
calls `POST /api/v1/daily/connect` with its id, which reaches `lead_daily_connect` by name
(telephony cannot import leads). From then on the lead follows its call exactly like a phone
lead: answered (the client joined) → in_call, ended → completed, retried or failed
(`leads.dispatch.outcome`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F

from config.call_config import DAILY_EXECUTION_MODES
from config.exceptions import ApplicationError
from config.selectors import scope_queryset, user_may
from config.types import Action, Resource
from leads.models import Lead
from leads.services import actor_label, lead_transition
from telephony.providers.daily.sessions import (
    DailySession,
    DailySessionNotFoundError,
    DailySessionPermissionError,
    DailySessionStateError,
    daily_session_open,
)

if TYPE_CHECKING:
    from config.selectors import AnyUser

Status = Lead.Status
# Pushed and waiting; `scheduled` only for a Daily lead pushed before Daily leads waited.
WAITING = (Status.QUEUED, Status.SCHEDULED)
CONNECTED = (Status.DIALING, Status.IN_CALL)


def lead_daily_connect(*, user: AnyUser, lead_id: int, is_recording: bool) -> DailySession:
    """Start the Daily session of a waiting lead: its call, room and the client's token.

    The call runs the lead's pinned template version with its payload. The lead moves to
    `dialing` (one more attempt) in the same transaction as the call is written, under the
    lead's row lock, so two clients connecting at once get one session and one 409.
    """
    lead = (
        scope_queryset(
            Lead.objects.select_related("template_version__template"),
            user=user,
            resource=Resource.LEAD,
        )
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise DailySessionNotFoundError(f"Unknown lead {lead_id}.", field="lead_id")
    if not user_may(
        user=user, resource=Resource.LEAD, action=Action.ADD, merchant_id=lead.merchant_id
    ):
        raise DailySessionPermissionError("Your role may not start calls for this merchant.")
    if lead.execution_mode not in DAILY_EXECUTION_MODES:
        raise ApplicationError(
            f"Lead {lead_id} is a {lead.execution_mode} lead; only DAILY or DAILY_TEST leads "
            "connect.",
            field="lead_id",
        )
    with transaction.atomic():
        status = Lead.objects.select_for_update().values_list("status", flat=True).get(pk=lead_id)
        if status in CONNECTED:
            raise DailySessionStateError(
                f"Lead {lead_id} is already connected ({status}).", field="lead_id"
            )
        if status not in WAITING:
            raise DailySessionStateError(
                f"Lead {lead_id} is {status}; it no longer waits for a client.", field="lead_id"
            )
        session = daily_session_open(
            version=lead.template_version,
            execution_mode=lead.execution_mode,
            payload=lead.payload,
            is_recording=is_recording,
            lead_id=lead.pk,
        )
        lead_transition(
            lead_id=lead.pk,
            from_statuses=WAITING,
            to_status=Status.DIALING,
            actor=actor_label(user),
            reason=f"client connected: Daily session, call {session.call_id}",
            attempts=F("attempts") + 1,
            next_attempt_at=None,
        )
    return session
