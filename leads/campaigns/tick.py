"""The campaign tick (beat, every BREEZE_CAMPAIGN_TICK_SECONDS): release leads to the dispatcher.

A campaign's leads wait `queued`, which the dispatcher never claims. Each tick, with the
campaign row locked (a second tick skips it), it:
1. pauses the campaign if the failure rate of its last N finished attempts reached the
   threshold;
2. completes it when no lead is waiting or in flight;
3. releases `queued → scheduled` (due now) at most `max_concurrency` minus the leads already
   released or in a call, at most as many as the rate bucket grants, and only leads inside
   their calling window (the others get `next_attempt_at` = their next opening);
4. kicks the dispatcher after commit, which dials them as it dials any due lead.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import redis
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from calls.models import Call
from leads.campaigns.bucket import bucket_take
from leads.campaigns.services import (
    campaign_complete_locked,
    campaign_pause_locked,
)
from leads.dispatch.limiter import limiter_redis
from leads.dispatch.services import lead_opening
from leads.models import Campaign, Lead, LeadImport
from leads.services import dispatch_kick, lead_transition

logger = logging.getLogger(__name__)
LeadStatus = Lead.Status
ACTOR = "campaign tick"
ACTOR_BREAKER = "failure-rate breaker"
# What counts as a failed attempt for the breaker: the call could not be made or broke
# (provider errors, unconfirmed dials). A customer not answering is not a system failure.
FAILURE_DISPOSITIONS = frozenset({Call.Disposition.FAILED})
_COUNTED = (LeadStatus.QUEUED, LeadStatus.SCHEDULED, LeadStatus.DIALING, LeadStatus.IN_CALL)


@dataclass
class TickReport:
    released: list[int] = field(default_factory=list)  # lead ids
    deferred: int = 0  # outside their calling window
    paused: bool = False
    completed: bool = False


def failure_breach(*, campaign: Campaign) -> str | None:
    """Why the campaign must pause now, or None.

    It must when the failed share of its last N finished attempts (those ended since its
    last start or resume) reached its threshold; with fewer than N, it never pauses.
    """
    since = campaign.resumed_at or campaign.started_at
    window = campaign.failure_window
    ended = Call.objects.filter(lead__campaign_id=campaign.pk, status=Call.Status.ENDED)
    if since is not None:
        ended = ended.filter(ended_at__gte=since)
    dispositions = list(
        ended.order_by("-ended_at", "-pk").values_list("disposition", flat=True)[:window]
    )
    if len(dispositions) < window:
        return None
    failed = sum(1 for disposition in dispositions if disposition in FAILURE_DISPOSITIONS)
    if failed / window < campaign.failure_threshold:
        return None
    return (
        f"failure rate {failed}/{window} over the last {window} finished attempts "
        f"reached the threshold of {campaign.failure_threshold:.0%}"
    )


def _status_counts(campaign_id: int) -> dict[str, int]:
    rows = (
        Lead.objects.filter(campaign_id=campaign_id, status__in=_COUNTED)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return dict(rows)


def _take(campaign: Campaign, *, want: int, now: dt.datetime, client: redis.Redis) -> int:
    try:
        return bucket_take(
            client=client,
            campaign_id=campaign.pk,
            calls_per_minute=campaign.calls_per_minute,
            want=want,
            now=now.timestamp(),
        )
    except redis.RedisError:
        # Without its bucket the rate cannot be enforced: release nothing until Redis is back.
        logger.warning("campaign %s: rate bucket unavailable; nothing released", campaign.pk)
        return 0


def campaign_tick(
    *, campaign_id: int, now: dt.datetime | None = None, client: redis.Redis | None = None
) -> TickReport:
    """One tick of one running campaign (a paused, stopped or busy one is left alone)."""
    now = now or timezone.now()
    report = TickReport()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(skip_locked=True)
            .filter(pk=campaign_id, status=Campaign.Status.RUNNING)
            .first()
        )
        if campaign is None:
            return report
        reason = failure_breach(campaign=campaign)
        if reason is not None:
            campaign_pause_locked(campaign=campaign, actor=ACTOR_BREAKER, reason=reason)
            report.paused = True
            return report
        counts = _status_counts(campaign.pk)
        in_flight = sum(counts.get(status, 0) for status in _COUNTED[1:])
        if not counts and not _import_running(campaign):
            campaign_complete_locked(campaign=campaign)
            report.completed = True
            return report
        room = campaign.max_concurrency - in_flight
        if room <= 0 or not counts.get(LeadStatus.QUEUED):
            return report
        candidates = list(
            Lead.objects.select_for_update(skip_locked=True)
            .select_related("merchant", "template_version")
            .filter(campaign_id=campaign.pk, status=LeadStatus.QUEUED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by(F("next_attempt_at").asc(nulls_first=True), "pk")[:room]
        )
        eligible: list[Lead] = []
        for lead in candidates:
            opening = lead_opening(lead=lead, at=now)
            if opening is not None and opening > now:
                # Waits queued for its window; the dispatcher would only park it `scheduled`
                # there, holding one of the campaign's concurrency places meanwhile.
                Lead.objects.filter(pk=lead.pk).update(next_attempt_at=opening, updated_at=now)
                report.deferred += 1
            else:
                eligible.append(lead)
        granted = _take(campaign, want=len(eligible), now=now, client=client or limiter_redis())
        released = [
            lead
            for lead in eligible[:granted]
            if lead_transition(
                lead_id=lead.pk,
                from_statuses=[LeadStatus.QUEUED],
                to_status=LeadStatus.SCHEDULED,
                actor=ACTOR,
                reason=f"released by campaign {campaign.pk}",
                next_attempt_at=now,
            )
        ]
        for lead in released:
            lead.status, lead.next_attempt_at = LeadStatus.SCHEDULED, now
        report.released = [lead.pk for lead in released]
        dispatch_kick(leads=released)
    return report


def _import_running(campaign: Campaign) -> bool:
    """Its import may still add rows: an empty campaign is not finished yet."""
    if campaign.lead_import_id is None:
        return False
    return LeadImport.objects.filter(
        pk=campaign.lead_import_id,
        status__in=[LeadImport.Status.PENDING, LeadImport.Status.RUNNING],
    ).exists()


def campaigns_tick_running() -> list[int]:
    """Tick every running campaign; the ids that released leads."""
    active: list[int] = []
    running = Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list("pk", flat=True)
    client = limiter_redis()
    for campaign_id in list(running):
        try:
            report = campaign_tick(campaign_id=campaign_id, client=client)
        except Exception:
            # One broken campaign must not stop the others' ticks.
            logger.exception("campaign %s: tick failed", campaign_id)
            continue
        if report.released:
            active.append(campaign_id)
    return active
