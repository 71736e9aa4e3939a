"""Live-call reads: calls in progress, and what a watcher needs before live events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models

from calls.live.events import TurnData, turn_data
from calls.models import Call
from config.selectors import scope_queryset, user_may
from config.types import Action, Resource

if TYPE_CHECKING:
    from config.selectors import AnyUser

LIVE_STATUSES = (Call.Status.DIALING, Call.Status.RINGING, Call.Status.IN_PROGRESS)
LIVE_LIST_LIMIT = 200


def live_call_list(*, user: AnyUser) -> models.QuerySet[Call]:
    """Calls being dialled or held right now, of the caller's merchants, newest first."""
    return scope_queryset(
        Call.objects.filter(status__in=LIVE_STATUSES).select_related(
            "merchant", "template_version__template"
        ),
        user=user,
        resource=Resource.CALL,
    ).order_by("-created_at")[:LIVE_LIST_LIMIT]


def live_call_get(*, user: AnyUser, call_id: int) -> Call | None:
    """A call the caller may watch (any status: a finished call shows its record)."""
    return (
        scope_queryset(
            Call.objects.select_related("merchant", "template_version__template"),
            user=user,
            resource=Resource.CALL,
        )
        .filter(pk=call_id)
        .first()
    )


def live_call_may_end(*, user: AnyUser, call: Call) -> bool:
    return user_may(
        user=user, resource=Resource.CALL, action=Action.CHANGE, merchant_id=call.merchant_id
    )


@dataclass(frozen=True)
class LiveBacklog:
    call: dict[str, Any]
    turns: list[TurnData]

    @property
    def last_index(self) -> int:
        return self.turns[-1]["index"] if self.turns else -1


def live_call_row(call: Call) -> dict[str, Any]:
    version = call.template_version
    return {
        "id": call.pk,
        "merchant": call.merchant.name,
        "template": f"{version.template.name} v{version.number}",
        "provider": call.provider,
        "status": call.status,
        "disposition": call.disposition,
        "end_reason": call.end_reason,
        "outcome": call.outcome,
        "node": call.node_path[-1] if call.node_path else "",
        "created_at": call.created_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
    }


def live_call_backlog(*, call_id: int) -> LiveBacklog:
    """The call as stored now and every turn written so far, in speaking order.

    Read after the watcher joined the call's group, so a turn written meanwhile arrives
    both here and as an event; the consumer drops events at or below `last_index`.
    """
    call = Call.objects.select_related("merchant", "template_version__template").get(pk=call_id)
    return LiveBacklog(
        call=live_call_row(call), turns=[turn_data(turn) for turn in call.turns.order_by("index")]
    )
