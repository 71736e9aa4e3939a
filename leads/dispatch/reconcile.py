"""Reconcilers run by beat: repair what a dead worker or a flushed Redis left behind.

Each one reads PostgreSQL as the truth, is safe to run twice, and logs what it repaired.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import cast

import redis
from django.conf import settings
from django.utils import timezone

from calls.models import Call
from calls.services import call_end
from leads.dispatch.limiter import PREFIX, call_slot_keys
from leads.dispatch.limits import leased_caller_number
from telephony.services import call_place_enqueue
from templates_app.models import TemplateVersion

logger = logging.getLogger(__name__)
# A slot this young may belong to a dispatch whose transaction has not committed yet.
_GRACE_SECONDS = 60


@dataclass(frozen=True)
class StuckReport:
    re_enqueued: list[int]
    ended: list[int]


def calls_reconcile_stuck(*, now: dt.datetime | None = None) -> StuckReport:
    """Lead calls with no progress past `BREEZE_DIAL_TIMEOUT_SECONDS`.

    `queued`: the provider was never asked (placement commits `dialing` first), so the lost
    placement is enqueued again. `dialing`: the provider may have been asked by a worker that
    died before recording the answer; asking again could ring the customer twice, so the call
    ends `failed` (`dial_unconfirmed`) and the lead's retry policy schedules the next attempt.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=settings.BREEZE_DIAL_TIMEOUT_SECONDS)
    stale = Call.objects.filter(lead__isnull=False, updated_at__lt=cutoff)
    queued = list(stale.filter(status=Call.Status.QUEUED).values_list("pk", flat=True))
    dialing = list(stale.filter(status=Call.Status.DIALING).values_list("pk", flat=True))
    ended = [
        call_id
        for call_id in dialing
        if call_end(
            call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="dial_unconfirmed"
        )
    ]
    call_place_enqueue(call_ids=queued)
    if queued or ended:
        logger.warning(
            "reconcile: re-enqueued placement of %s; ended unconfirmed %s", queued, ended
        )
    return StuckReport(re_enqueued=queued, ended=ended)


def limiter_reconcile(*, client: redis.Redis) -> tuple[int, int]:
    """Make the limiter's sets match PostgreSQL's unfinished lead calls: (added, removed).

    Unfinished calls get a fresh lease (renewal, and the rebuild after a Redis flush);
    members whose call has ended, or never committed, are removed (leaked slots).
    """
    holders: dict[str, set[int]] = defaultdict(set)
    unfinished = list(
        Call.objects.filter(lead__isnull=False)
        .exclude(status=Call.Status.ENDED)
        .values_list("pk", "merchant_id", "lead__template_id", "template_version_id")
    )
    executions = {
        version_id: definition.get("execution", {})
        for version_id, definition in TemplateVersion.objects.filter(
            pk__in={row[3] for row in unfinished}
        ).values_list("pk", "definition")
    }
    for call_id, merchant_id, template_id, version_id in unfinished:
        number = leased_caller_number(execution=executions[version_id], call_id=call_id)
        for key in call_slot_keys(
            merchant_id=merchant_id, template_id=template_id, caller_number=number
        ):
            holders[key].add(call_id)
    now = time.time()
    expiry = now + settings.BREEZE_LIMITER_LEASE_SECONDS
    young = expiry - _GRACE_SECONDS
    added = removed = 0
    keys = {key.decode() for key in client.scan_iter(match=f"{PREFIX}*")} | set(holders)
    for key in keys:
        scored = cast(
            "list[tuple[bytes, float]]", client.zrangebyscore(key, "-inf", "+inf", withscores=True)
        )
        present = {int(member): score for member, score in scored}
        should = holders.get(key, set())
        leaked = [m for m, score in present.items() if m not in should and score < young]
        missing = should - set(present)
        pipe = client.pipeline()
        if leaked:
            pipe.zrem(key, *[str(m) for m in leaked])
        if should:
            pipe.zadd(key, {str(m): expiry for m in should})
            pipe.expireat(key, int(expiry) + 1)
        pipe.execute()
        added += len(missing)
        removed += len(leaked)
    if added or removed:
        logger.warning("reconcile: limiter rebuilt %s slots, removed %s leaked", added, removed)
    return added, removed
