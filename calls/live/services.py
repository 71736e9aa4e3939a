"""Live-call writes: an operator asks a running call's worker to end it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from calls.exceptions import CallEndRefusedError
from calls.live.events import END_REQUEST, LIVE_EVENT, call_status_event, control_group, live_group
from calls.models import Call
from config.selectors import scope_queryset, user_may
from config.types import Action, Resource

if TYPE_CHECKING:
    from config.selectors import AnyUser

logger = logging.getLogger(__name__)


def call_end_request(*, user: AnyUser, call_id: int) -> None:
    """Ask the worker running `call_id` to end it (the bot stops, the provider hangs up).

    Only a call in progress has a worker to ask. The worker records the end itself
    (end reason `operator_ended`), on the same path as a call the bot ends, so the Call row,
    the lead and the webhooks follow as usual.
    """
    call = (
        scope_queryset(Call.objects.filter(pk=call_id), user=user, resource=Resource.CALL)
        .only("pk", "merchant_id", "status")
        .first()
    )
    if call is None:
        raise CallEndRefusedError("No such call.", code="not_found")
    if not user_may(
        user=user, resource=Resource.CALL, action=Action.CHANGE, merchant_id=call.merchant_id
    ):
        raise CallEndRefusedError("Your role may watch this call but not end it.", code="forbidden")
    if call.status != Call.Status.IN_PROGRESS:
        raise CallEndRefusedError(
            f"Only a call in progress can be ended; this one is {call.get_status_display().lower()}.",
            code="not_live",
        )
    layer = get_channel_layer()
    if layer is None:
        raise CallEndRefusedError("No channel layer is configured.", code="unavailable")
    requested_by = str(user)  # a person's username; an API key's name
    async_to_sync(layer.group_send)(
        control_group(call_id), {"type": END_REQUEST, "requested_by": requested_by}
    )
    logger.info("call %s: end requested by %s", call_id, requested_by)


def call_live_status_publish(*, call_id: int) -> None:
    """Tell the call's watchers its stored status (after a commit that ended it).

    However the call ended (its worker, a provider callback, the crash reconciler), the live
    view learns it. Watching is never worth failing the caller: errors are logged.
    """
    try:
        call = Call.objects.only("status", "disposition", "end_reason").get(pk=call_id)
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(
                live_group(call_id), {"type": LIVE_EVENT, "event": call_status_event(call)}
            )
    except Exception:
        logger.warning("call %s: could not tell its watchers its status", call_id, exc_info=True)
