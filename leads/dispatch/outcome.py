"""An attempt ended: complete the lead, retry it by its template's policy, or give up.

Calls reaches this by name from `call_mark_in_progress` and `call_end`, inside the transaction
that changes the call, so the lead's move, its history and its webhook outbox rows commit
together with the call's change.
"""

from __future__ import annotations

import datetime as dt
import logging

import redis
from django.db import transaction
from django.utils import timezone

from calls.models import Call
from calls.webhooks.events import EventType
from config.call_config import DAILY_EXECUTION_MODES
from leads.campaigns.services import campaign_retry_status
from leads.dispatch.events import lead_event_emit
from leads.dispatch.limiter import call_slot_keys, limiter_redis, limiter_release
from leads.dispatch.limits import leased_caller_number
from leads.dispatch.retry import Verdict, retry_decide
from leads.dispatch.services import lead_opening
from leads.models import Lead
from leads.services import lead_transition

logger = logging.getLogger(__name__)
Status = Lead.Status
ACTOR = "retry policy"
ACTOR_CALL = "call"
_FINAL = {
    Verdict.COMPLETE: (Status.COMPLETED, EventType.LEAD_COMPLETED),
    Verdict.EXHAUSTED: (Status.EXHAUSTED, EventType.LEAD_EXHAUSTED),
    Verdict.FAIL: (Status.FAILED, EventType.LEAD_FAILED),
    Verdict.CANCEL: (Status.CANCELLED, None),
}


def _release_slot(*, call_id: int, keys: list[str]) -> None:
    try:
        limiter_release(call_id=call_id, keys=keys, client=limiter_redis())
    except redis.RedisError:
        # The lease expires on its own and the reconciler drops ended calls' slots.
        logger.warning("call %s: limiter slot not released (Redis unavailable)", call_id)


def lead_attempt_changed(*, call_id: int) -> None:
    """Follow a lead's call: answered → the lead is `in_call`; ended → settle the lead.

    A call without a lead, or a repeated report, changes nothing.
    """
    call = Call.objects.get(pk=call_id)
    if call.lead_id is None:
        return
    if call.status == Call.Status.IN_PROGRESS:
        lead_transition(
            lead_id=call.lead_id,
            from_statuses=[Status.DIALING],
            to_status=Status.IN_CALL,
            actor=ACTOR_CALL,
            reason=f"call {call.pk} answered",
        )
        return
    if call.status == Call.Status.ENDED:
        _lead_settle(call)


def _lead_settle(call: Call) -> None:
    assert call.lead_id is not None
    lead = Lead.objects.select_related("merchant", "template_version").get(pk=call.lead_id)
    now = timezone.now()
    decision = retry_decide(
        execution=lead.template_version.definition.get("execution", {}),
        disposition=call.disposition,
        end_reason=call.end_reason,
        attempts=lead.attempts,
        now=now,
    )
    common = {
        "last_disposition": call.disposition,
        "outcome": call.outcome,
        "outcome_fields": call.outcome_fields,
    }
    active = [Status.DIALING, Status.IN_CALL]
    keys = call_slot_keys(
        merchant_id=lead.merchant_id,
        template_id=lead.template_id,
        caller_number=leased_caller_number(
            execution=lead.template_version.definition.get("execution", {}), call_id=call.pk
        ),
    )
    transaction.on_commit(lambda: _release_slot(call_id=call.pk, keys=keys))
    if decision.verdict is Verdict.RETRY:
        assert decision.retry_at is not None
        # Outside the window the retry waits for its next opening; it is never dropped.
        retry_at = lead_opening(lead=lead, at=decision.retry_at) or decision.retry_at
        # A campaign's lead waits `queued` for its campaign's tick (or is cancelled if stopped).
        to_status = campaign_retry_status(campaign_id=lead.campaign_id)
        reason = decision.reason if to_status != Status.CANCELLED else "campaign stopped"
        next_attempt_at: dt.datetime | None = retry_at if to_status != Status.CANCELLED else None
        if lead.execution_mode in DAILY_EXECUTION_MODES:
            # Nothing dials a Daily lead: it waits again, with no due time, for its client.
            to_status, next_attempt_at = Status.QUEUED, None
            reason = f"{decision.reason}; waits for its client to connect again"
        lead_transition(
            lead_id=lead.pk,
            from_statuses=active,
            to_status=to_status,
            actor=ACTOR,
            reason=reason,
            next_attempt_at=next_attempt_at,
            **common,
        )
        return
    to_status, event_type = _FINAL[decision.verdict]
    moved = lead_transition(
        lead_id=lead.pk,
        from_statuses=active,
        to_status=to_status,
        actor=ACTOR,
        reason=decision.reason,
        next_attempt_at=None,
        **common,
    )
    if moved and event_type is not None:
        lead_event_emit(
            lead_id=lead.pk, event_type=event_type, reason=decision.reason, last_call_id=call.pk
        )
