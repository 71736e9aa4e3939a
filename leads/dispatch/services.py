"""The dispatcher: claim due leads, apply windows and checks, write the Call, then place it."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from calls.models import Call
from calls.services import call_build, call_ids_reserve, calls_insert
from config.exceptions import ApplicationError
from config.models import Merchant
from config.tracing.context import span_from
from leads.dispatch.dnc import dnc_listed, lead_block
from leads.dispatch.limiter import Slot, call_slots, limiter_acquire_many, limiter_redis
from leads.dispatch.limits import Limits, dispatch_limits, leased_caller_number
from leads.dispatch.number_cap import NumberCap
from leads.dispatch.windows import lead_zone, next_opening
from leads.models import Lead, LeadTransition
from leads.services import lead_transition
from telephony.services import call_place_enqueue
from templates_app.definition.providers import execution_providers
from templates_app.models import TemplateVersion

logger = logging.getLogger(__name__)
Status = Lead.Status
ACTOR = "dispatcher"


@dataclass
class DispatchReport:
    claimed: int = 0
    dialled: list[int] = field(default_factory=list)  # call ids
    rescheduled: int = 0
    failed: int = 0


def leads_claim_due(*, now: dt.datetime, limit: int) -> list[Lead]:
    """Lock up to `limit` due scheduled leads that no other dispatcher holds, oldest due first.

    Must run inside a transaction: the row locks are the claim, and last until it ends.
    SKIP LOCKED makes a second dispatcher take the next leads instead of waiting for these;
    the partial index `lead_due_idx` (status='scheduled') serves the filter and the order.
    """
    leads = list(
        Lead.objects.select_for_update(skip_locked=True)
        .filter(status=Status.SCHEDULED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")[:limit]
    )
    # A batch shares a handful of versions and merchants: one query each, not a join that
    # would repeat every version's definition JSON on each of 500 rows.
    versions = TemplateVersion.objects.in_bulk({lead.template_version_id for lead in leads})
    merchants = Merchant.objects.in_bulk({lead.merchant_id for lead in leads})
    for lead in leads:
        lead.template_version = versions[lead.template_version_id]
        lead.merchant = merchants[lead.merchant_id]
    return leads


def _execution(lead: Lead) -> dict[str, Any]:
    execution: dict[str, Any] = lead.template_version.definition.get("execution", {})
    return execution


def lead_opening(*, lead: Lead, at: dt.datetime) -> dt.datetime | None:
    """When `lead` may next be called at or after `at`, by its template's calling windows."""
    execution = _execution(lead)
    zone = lead_zone(
        execution=execution,
        lead_time_zone=lead.time_zone,
        phone=lead.phone,
        merchant_time_zone=lead.merchant.time_zone,
    )
    return next_opening(windows=execution.get("calling_windows", []), zone=zone, at=at)


def _settle(lead: Lead, *, to_status: str, reason: str, **fields: Any) -> None:
    lead_transition(
        lead_id=lead.pk,
        from_statuses=[Status.SCHEDULED],
        to_status=to_status,
        actor=ACTOR,
        reason=reason,
        **fields,
    )


def _reschedule(lead: Lead, *, at: dt.datetime, reason: str) -> None:
    _settle(lead, to_status=Status.SCHEDULED, reason=reason, next_attempt_at=at)


def _fail(lead: Lead, *, disposition: str, reason: str) -> None:
    _settle(
        lead,
        to_status=Status.FAILED,
        reason=reason,
        next_attempt_at=None,
        last_disposition=disposition,
    )


@dataclass(frozen=True)
class _Dial:
    """A lead that passed every check, and its call, built but not yet written."""

    lead: Lead
    call: Call
    execution: dict[str, Any]


@dataclass(frozen=True)
class _Batch:
    """What a batch looked up once for all its leads."""

    now: dt.datetime
    blocked: set[int]
    limits: dict[int, Limits]
    number_cap: NumberCap


def _check_one(lead: Lead, *, batch: _Batch, report: DispatchReport) -> _Dial | None:
    # Each lead in the push's trace, not the beat-started batch's: its Call keeps this span.
    with span_from(lead.traceparent, "lead.dispatch", attributes={"breeze.lead_id": lead.pk}):
        return _checked(lead, batch=batch, report=report)


def _checked(lead: Lead, *, batch: _Batch, report: DispatchReport) -> _Dial | None:
    now = batch.now
    if lead.pk in batch.blocked:
        # Listed after the push: checked again here, at the last moment before a dial.
        lead_block(lead_id=lead.pk, actor=ACTOR)
        report.failed += 1
        return None
    opening = lead_opening(lead=lead, at=now)
    if opening is None:
        _fail(lead, disposition="failed", reason="the template's calling windows never open")
        report.failed += 1
        return None
    if opening > now:
        _reschedule(lead, at=opening, reason=f"outside calling window until {opening.isoformat()}")
        report.rescheduled += 1
        return None
    wait_until = batch.number_cap.next_allowed(lead)
    if wait_until is not None:
        _reschedule(lead, at=wait_until, reason="calls to this number per hour at their cap")
        report.rescheduled += 1
        return None
    execution = _execution(lead)
    # The first configured provider; call_place fails over to the next ones.
    first = execution_providers(execution, default=settings.BREEZE_DEFAULT_TELEPHONY_PROVIDER)[0]
    try:
        call = call_build(
            version=lead.template_version,
            execution_mode=lead.execution_mode,
            provider=first.provider,
            customer_phone=lead.phone,
            payload=lead.payload,
            lead_id=lead.pk,
        )
    except ApplicationError as error:
        # The pinned version refuses this call (mode no longer allowed, payload invalid):
        # retrying cannot change a published version, so the lead fails with the reason.
        _fail(lead, disposition="failed", reason=f"call refused: {error.message}")
        report.failed += 1
        return None
    # Counted before the limiter answers: a refused lead may make a later lead to the same
    # number wait, never let one more through.
    batch.number_cap.dialled(lead)
    return _Dial(lead=lead, call=call, execution=execution)


def _slots(dial: _Dial, *, limits: Limits) -> list[Slot]:
    lead = dial.lead
    return call_slots(
        merchant_id=lead.merchant_id,
        merchant_cap=limits.concurrent_calls,
        template_id=lead.template_id,
        template_cap=dial.execution.get("concurrency_cap"),
        caller_number=leased_caller_number(execution=dial.execution, call_id=dial.call.pk),
        caller_cap=limits.concurrent_calls_per_caller_number,
    )


def _admit(dials: list[_Dial], *, batch: _Batch, report: DispatchReport) -> list[_Dial]:
    """The dials that got their limiter slots; the others wait, undialled and with no Call."""
    for dial, call_id in zip(dials, call_ids_reserve(count=len(dials)), strict=True):
        dial.call.pk = call_id
    why = "at concurrency cap"
    try:
        granted = limiter_acquire_many(
            calls=[(d.call.pk, _slots(d, limits=batch.limits[d.lead.merchant_id])) for d in dials],
            client=limiter_redis(),
        )
    except redis.RedisError:
        why, granted = "limiter unavailable", [False] * len(dials)
    retry_at = batch.now + dt.timedelta(seconds=settings.BREEZE_LIMITER_RETRY_SECONDS)
    admitted = []
    for dial, ok in zip(dials, granted, strict=True):
        if ok:
            admitted.append(dial)
        else:
            _reschedule(dial.lead, at=retry_at, reason=why)
            report.rescheduled += 1
    return admitted


def _dial_all(dials: list[_Dial], *, now: dt.datetime) -> None:
    """Move every admitted lead scheduled → dialing with its history row, and write the Calls.

    The claim holds these rows locked and still `scheduled`, so the one conditional UPDATE
    moves all of them; anything else means the claim was broken, and the batch rolls back.
    """
    moved = Lead.objects.filter(
        pk__in=[dial.lead.pk for dial in dials], status=Status.SCHEDULED
    ).update(
        status=Status.DIALING,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
        updated_at=now,
    )
    if moved != len(dials):
        raise RuntimeError(f"dispatch: {moved} of {len(dials)} claimed leads were still scheduled")
    LeadTransition.objects.bulk_create(
        LeadTransition(
            lead_id=dial.lead.pk,
            from_status=Status.SCHEDULED,
            to_status=Status.DIALING,
            actor=ACTOR,
            reason=f"attempt {dial.lead.attempts + 1}",
            at=now,
        )
        for dial in dials
    )
    calls_insert(calls=[dial.call for dial in dials])


def leads_dispatch_batch(*, limit: int | None = None) -> DispatchReport:
    """Claim one batch of due leads and turn each into a call, a reschedule or a failure.

    All of it commits together with the row locks released; only then are the calls placed.
    The dials are written set-wise: one limiter round trip, one UPDATE of the leads, one
    INSERT each for their history rows and their Calls.
    """
    report = DispatchReport()
    now = timezone.now()
    with transaction.atomic():
        leads = leads_claim_due(now=now, limit=limit or settings.BREEZE_DISPATCH_BATCH)
        report.claimed = len(leads)
        limits = dispatch_limits(merchant_ids={lead.merchant_id for lead in leads})
        batch = _Batch(
            now=now,
            blocked=dnc_listed(leads=leads),
            limits=limits,
            number_cap=NumberCap(leads=leads, now=now, limits=limits),
        )
        checked = [_check_one(lead, batch=batch, report=report) for lead in leads]
        dials = [dial for dial in checked if dial is not None]
        if dials:
            admitted = _admit(dials, batch=batch, report=report)
            if admitted:
                _dial_all(admitted, now=now)
            report.dialled = [dial.call.pk for dial in admitted]
        call_place_enqueue(call_ids=report.dialled)
    return report


def leads_dispatch_due(*, max_batches: int = 20) -> DispatchReport:
    """Dispatch batches until no due lead is left (or `max_batches`, so one task stays short)."""
    total = DispatchReport()
    limit = settings.BREEZE_DISPATCH_BATCH
    for _ in range(max_batches):
        report = leads_dispatch_batch(limit=limit)
        total.claimed += report.claimed
        total.dialled += report.dialled
        total.rescheduled += report.rescheduled
        total.failed += report.failed
        if report.claimed < limit:
            break
    if total.claimed:
        logger.info(
            "dispatch: claimed %s, dialled %s, rescheduled %s, failed %s",
            total.claimed,
            len(total.dialled),
            total.rescheduled,
            total.failed,
        )
    return total
