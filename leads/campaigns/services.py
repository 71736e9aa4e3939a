"""Campaign writes: create from an import or a filter, start, pause, resume, stop.

Every status change is a conditional UPDATE on the campaign's current status, made with the
campaign row locked, so an operator's pause and the beat tick's auto-pause (or two operators)
cannot both win. The leads a change moves are moved in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from calls.webhooks.events import EventType
from calls.webhooks.services import webhook_event_emit
from config.call_config import DAILY_EXECUTION_MODES
from leads.campaigns.bucket import bucket_fill
from leads.campaigns.exceptions import CampaignStateError, CampaignValidationError
from leads.dispatch.limiter import limiter_redis
from leads.models import Campaign, Lead, LeadImport, LeadTransition

logger = logging.getLogger(__name__)
Status = Campaign.Status
# Leads a campaign may take: not yet dialled, and in no other campaign.
WAITING = (Lead.Status.QUEUED, Lead.Status.SCHEDULED)
# Leads a campaign is calling now; a pause lets them finish.
IN_FLIGHT = (Lead.Status.DIALING, Lead.Status.IN_CALL)


@dataclass(frozen=True)
class LeadFilter:
    """Which of the merchant's waiting leads of the template a campaign takes."""

    statuses: tuple[str, ...] = WAITING
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": list(self.statuses),
            "created_after": self.created_after.isoformat() if self.created_after else None,
            "created_before": self.created_before.isoformat() if self.created_before else None,
        }


def leads_move(
    leads: QuerySet[Lead], *, to_status: str, actor: str, reason: str, **fields: Any
) -> list[int]:
    """Move every lead of `leads` to `to_status` with a history row each; the ids moved.

    The rows are locked first; a lead a dispatcher holds is waited for and then re-read, so
    one it has just claimed (now `dialing`) drops out of a filter on waiting statuses.
    Must run inside a transaction.
    """
    now = timezone.now()
    rows = list(leads.select_for_update().order_by("pk").values_list("pk", "status"))
    if not rows:
        return []
    ids = [pk for pk, _ in rows]
    Lead.objects.filter(pk__in=ids).update(status=to_status, updated_at=now, **fields)
    LeadTransition.objects.bulk_create(
        [
            LeadTransition(
                lead_id=pk,
                from_status=status,
                to_status=to_status,
                actor=actor,
                reason=reason[:300],
                at=now,
            )
            for pk, status in rows
        ],
        batch_size=2000,
    )
    return ids


def _check_limits(values: dict[str, Any]) -> None:
    bounds = {
        "calls_per_minute": (1, 6000),
        "max_concurrency": (1, 1000),
        "failure_window": (1, 1000),
    }
    for name, (low, high) in bounds.items():
        value = values[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise CampaignValidationError(f"A whole number from {low} to {high}.", field=name)
    threshold = values["failure_threshold"]
    if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise CampaignValidationError(
            "A share of failed attempts above 0 and at most 1.", field="failure_threshold"
        )


def campaign_check(
    *,
    merchant_id: int,
    template_id: int,
    name: str,
    lead_import: LeadImport | None,
    lead_filter: LeadFilter | None,
    limits: dict[str, Any],
) -> None:
    """Refuse a campaign the API or the admin describes wrongly, naming the field at fault."""
    if (lead_import is None) == (lead_filter is None):
        raise CampaignValidationError(
            "Give either a lead import or a lead filter.", field="lead_import"
        )
    if not name.strip():
        raise CampaignValidationError("A name.", field="name")
    _check_limits(limits)
    if lead_import is not None and (
        lead_import.merchant_id != merchant_id or lead_import.template_id != template_id
    ):
        raise CampaignValidationError(
            "The import is for another template or merchant.", field="lead_import"
        )


def campaign_create(
    *,
    merchant_id: int,
    template_id: int,
    name: str,
    created_by: str,
    lead_import: LeadImport | None = None,
    lead_filter: LeadFilter | None = None,
    calls_per_minute: int = 30,
    max_concurrency: int = 5,
    failure_threshold: float = 0.5,
    failure_window: int = 10,
) -> Campaign:
    """A draft campaign holding the template's waiting leads of one import or one filter.

    The leads move to `queued` at once, so the dispatcher leaves them alone until the campaign
    runs. Rows an import commits after this (it may still be running) join it the same way:
    the import row is locked here and by each chunk, so no chunk slips between the two.
    """
    limits = {
        "calls_per_minute": calls_per_minute,
        "max_concurrency": max_concurrency,
        "failure_threshold": failure_threshold,
        "failure_window": failure_window,
    }
    campaign_check(
        merchant_id=merchant_id,
        template_id=template_id,
        name=name,
        lead_import=lead_import,
        lead_filter=lead_filter,
        limits=limits,
    )
    with transaction.atomic():
        if lead_import is not None:
            LeadImport.objects.select_for_update().filter(pk=lead_import.pk).first()
        campaign = Campaign.objects.create(
            merchant_id=merchant_id,
            template_id=template_id,
            name=name.strip(),
            lead_import=lead_import,
            lead_filter=lead_filter.as_json() if lead_filter else {},
            created_by=created_by,
            **limits,
        )
        waiting = Lead.objects.filter(
            merchant_id=merchant_id,
            template_id=template_id,
            campaign__isnull=True,
            status__in=WAITING,
        ).exclude(execution_mode__in=DAILY_EXECUTION_MODES)  # dialled never; a client connects
        if lead_import is not None:
            waiting = waiting.filter(lead_import=lead_import)
        else:
            assert lead_filter is not None
            waiting = waiting.filter(status__in=lead_filter.statuses)
            if lead_filter.created_after is not None:
                waiting = waiting.filter(created_at__gte=lead_filter.created_after)
            if lead_filter.created_before is not None:
                waiting = waiting.filter(created_at__lt=lead_filter.created_before)
        leads_move(
            waiting,
            to_status=Lead.Status.QUEUED,
            actor=created_by,
            reason=f"added to campaign {campaign.pk}",
            campaign_id=campaign.pk,
        )
    return campaign


def campaign_for_import(*, lead_import_id: int) -> int | None:
    """The campaign that takes rows an import is still adding (the caller holds its lock)."""
    return (
        Campaign.objects.filter(
            lead_import_id=lead_import_id, status__in=[Status.DRAFT, Status.RUNNING, Status.PAUSED]
        )
        .values_list("pk", flat=True)
        .first()
    )


def _locked(campaign_id: int, *, from_statuses: Iterable[str], doing: str) -> Campaign:
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignStateError("No such campaign.")
    if campaign.status not in set(from_statuses):
        raise CampaignStateError(
            f"A {campaign.get_status_display().lower()} campaign cannot be {doing}."
        )
    return campaign


def _move(campaign: Campaign, *, to_status: str, **fields: Any) -> Campaign:
    updated = Campaign.objects.filter(pk=campaign.pk, status=campaign.status).update(
        status=to_status, updated_at=timezone.now(), **fields
    )
    # The row is locked, so the status read under the lock is still current.
    assert updated == 1
    campaign.refresh_from_db()
    return campaign


def _fill_bucket(campaign: Campaign) -> None:
    def fill() -> None:
        try:
            bucket_fill(
                client=limiter_redis(),
                campaign_id=campaign.pk,
                calls_per_minute=campaign.calls_per_minute,
                now=timezone.now().timestamp(),
            )
        except redis.RedisError:
            # An empty bucket refills at the campaign's rate: the start is only slower.
            logger.warning("campaign %s: rate bucket not filled (Redis unavailable)", campaign.pk)

    transaction.on_commit(fill)


def _kick(campaign_id: int) -> None:
    from leads.campaigns.tasks import campaign_tick_task

    transaction.on_commit(lambda: campaign_tick_task.delay(campaign_id))


def campaign_start(*, campaign_id: int, actor: str) -> Campaign:
    """Draft → running; its first tick runs as soon as this commits."""
    with transaction.atomic():
        campaign = _locked(campaign_id, from_statuses=[Status.DRAFT], doing="started")
        now = timezone.now()
        campaign = _move(campaign, to_status=Status.RUNNING, started_at=now, resumed_at=now)
        logger.info("campaign %s started by %s", campaign.pk, actor)
        _fill_bucket(campaign)
        _kick(campaign.pk)
    return campaign


def campaign_pause(*, campaign_id: int, actor: str, reason: str = "") -> Campaign:
    """Running → paused: no lead of it is dialled again; calls in flight finish.

    Leads the tick released but no dispatcher has claimed yet go back to `queued` in this
    transaction (a lead a dispatcher holds is waited for: it was claimed before the pause).
    The `campaign.paused` event is written in the same transaction.
    """
    with transaction.atomic():
        campaign = _locked(campaign_id, from_statuses=[Status.RUNNING], doing="paused")
        return _pause_locked(campaign, actor=actor, reason=reason or f"paused by {actor}")


def _pause_locked(campaign: Campaign, *, actor: str, reason: str) -> Campaign:
    now = timezone.now()
    campaign = _move(campaign, to_status=Status.PAUSED, paused_at=now, pause_reason=reason[:300])
    returned = leads_move(
        Lead.objects.filter(campaign_id=campaign.pk, status=Lead.Status.SCHEDULED),
        to_status=Lead.Status.QUEUED,
        actor=actor,
        reason=f"campaign {campaign.pk} paused",
    )
    webhook_event_emit(
        merchant_id=campaign.merchant_id,
        event_type=EventType.CAMPAIGN_PAUSED,
        data={
            "campaign_id": campaign.pk,
            "name": campaign.name,
            "reason": campaign.pause_reason,
            "paused_at": now.isoformat(),
        },
    )
    logger.warning(
        "campaign %s paused by %s: %s (%s released leads back to queued)",
        campaign.pk,
        actor,
        campaign.pause_reason,
        len(returned),
    )
    return campaign


def campaign_pause_locked(*, campaign: Campaign, actor: str, reason: str) -> Campaign:
    """Pause a campaign the caller has locked and read as running (the tick's auto-pause)."""
    return _pause_locked(campaign, actor=actor, reason=reason)


def campaign_resume(*, campaign_id: int, actor: str) -> Campaign:
    """Paused → running; the failure window starts afresh from now."""
    with transaction.atomic():
        campaign = _locked(campaign_id, from_statuses=[Status.PAUSED], doing="resumed")
        campaign = _move(
            campaign, to_status=Status.RUNNING, resumed_at=timezone.now(), pause_reason=""
        )
        logger.info("campaign %s resumed by %s", campaign.pk, actor)
        _fill_bucket(campaign)
        _kick(campaign.pk)
    return campaign


def campaign_stop(*, campaign_id: int, actor: str) -> Campaign:
    """Draft, running or paused → stopped, for good: its waiting leads are cancelled.

    Calls in flight finish; a lead whose call then asks for a retry is cancelled instead
    (`campaign_retry_status`).
    """
    with transaction.atomic():
        campaign = _locked(
            campaign_id,
            from_statuses=[Status.DRAFT, Status.RUNNING, Status.PAUSED],
            doing="stopped",
        )
        campaign = _move(campaign, to_status=Status.STOPPED, stopped_at=timezone.now())
        cancelled = leads_move(
            Lead.objects.filter(campaign_id=campaign.pk, status__in=WAITING),
            to_status=Lead.Status.CANCELLED,
            actor=actor,
            reason=f"campaign {campaign.pk} stopped",
            next_attempt_at=None,
        )
        logger.info(
            "campaign %s stopped by %s (%s leads cancelled)", campaign.pk, actor, len(cancelled)
        )
    return campaign


def campaign_complete_locked(*, campaign: Campaign) -> Campaign:
    """Running → completed: the tick found none of its leads waiting or in flight."""
    campaign = _move(campaign, to_status=Status.COMPLETED, completed_at=timezone.now())
    logger.info("campaign %s completed", campaign.pk)
    return campaign


def campaign_retry_status(*, campaign_id: int | None) -> str:
    """Where a lead goes when its call ended and its retry policy asks for another attempt.

    Without a campaign it is `scheduled` for the dispatcher. A campaign's lead goes back to
    `queued`, so its next attempt counts against the campaign's rate and concurrency and
    waits while the campaign is paused; once the campaign is stopped it is `cancelled`.
    """
    if campaign_id is None:
        return Lead.Status.SCHEDULED
    status = Campaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first()
    if status in (Status.STOPPED, Status.COMPLETED):
        return Lead.Status.CANCELLED
    return Lead.Status.QUEUED
