"""The dispatcher: claim due leads, apply windows and checks, write the Call, then place it."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calls.services import (
    NewCall,
    call_ids_reserve,
    call_mode_check,
    call_payload_check,
    calls_insert_new,
)
from config.exceptions import ApplicationError
from config.models import Merchant
from config.tracing.context import span_from, traceparent_current, traceparent_relayed
from config.tracing.setup import tracing_enabled
from leads.dispatch.claim import DueLead, leads_claim_due
from leads.dispatch.dnc import dnc_listed, lead_block
from leads.dispatch.limiter import Slot, call_slots, limiter_acquire_many, limiter_redis
from leads.dispatch.limits import Limits, dispatch_limits
from leads.dispatch.number_cap import NumberCap
from leads.dispatch.windows import lead_zone, lead_zone_name, next_opening
from leads.models import Lead
from leads.services import lead_transition, leads_transition_set
from telephony.services import call_place_enqueue
from templates_app.definition.providers import execution_providers, select_number
from templates_app.models import TemplateVersion

logger = logging.getLogger(__name__)
Status = Lead.Status
ACTOR = "dispatcher"
__all__ = ["DispatchReport", "leads_claim_due", "leads_dispatch_batch", "leads_dispatch_due"]


@dataclass
class DispatchReport:
    claimed: int = 0
    dialled: list[int] = field(default_factory=list)  # call ids
    rescheduled: int = 0
    failed: int = 0


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


def _fail(lead: DueLead, *, disposition: str, reason: str) -> None:
    lead_transition(
        lead_id=lead.pk,
        from_statuses=[Status.SCHEDULED],
        to_status=Status.FAILED,
        actor=ACTOR,
        reason=reason,
        next_attempt_at=None,
        last_disposition=disposition,
    )


class _Version:
    """What every lead of one template version shares, worked out once per batch."""

    def __init__(self, version: TemplateVersion) -> None:
        self.version = version
        self.execution: dict[str, Any] = version.definition.get("execution", {})
        self.windows: list[dict[str, Any]] = self.execution.get("calling_windows", [])
        # The first configured provider; placement fails over to the next ones.
        self.first = execution_providers(
            self.execution, default=settings.BREEZE_DEFAULT_TELEPHONY_PROVIDER
        )[0]
        self.refusals: dict[str, str | None] = {}  # execution mode → why its calls are refused

    def refusal(self, execution_mode: str) -> str | None:
        if execution_mode not in self.refusals:
            try:
                call_mode_check(version=self.version, execution_mode=execution_mode)
            except ApplicationError as error:
                self.refusals[execution_mode] = error.message
            else:
                self.refusals[execution_mode] = None
        return self.refusals[execution_mode]


class _Batch:
    """What a batch looked up once for all its leads, and the moves it collects for the end."""

    def __init__(self, leads: list[DueLead], *, now: dt.datetime) -> None:
        self.now = now
        versions = TemplateVersion.objects.in_bulk({lead.template_version_id for lead in leads})
        self.versions = {pk: _Version(version) for pk, version in versions.items()}
        self.merchant_zones = dict(
            Merchant.objects.filter(pk__in={lead.merchant_id for lead in leads}).values_list(
                "pk", "time_zone"
            )
        )
        self.blocked = dnc_listed(leads=leads)
        self.limits = dispatch_limits(merchant_ids=set(self.merchant_zones))
        self.number_cap = NumberCap(leads=leads, now=now, limits=self.limits)
        self.tracing = tracing_enabled()
        # (version, zone) → the next opening from `now`: the same for every lead sharing them.
        self.openings: dict[tuple[int, str], dt.datetime | None] = {}
        # (next attempt, reason) → leads that stay scheduled until then.
        self.waits: dict[tuple[dt.datetime, str], list[int]] = defaultdict(list)

    def opening(self, lead: DueLead, version: _Version) -> dt.datetime | None:
        if not version.windows:
            return self.now
        zone = lead_zone_name(
            execution=version.execution,
            lead_time_zone=lead.time_zone,
            phone=lead.phone,
            merchant_time_zone=self.merchant_zones[lead.merchant_id],
        )
        key = (lead.template_version_id, zone)
        if key not in self.openings:
            self.openings[key] = next_opening(
                windows=version.windows, zone=ZoneInfo(zone), at=self.now
            )
        return self.openings[key]

    def wait(self, lead_id: int, *, until: dt.datetime, reason: str) -> None:
        self.waits[(until, reason)].append(lead_id)


@dataclass(frozen=True, slots=True)
class _Dial:
    """A lead that passed every check, and its call's row, not yet written."""

    lead: DueLead
    version: _Version
    traceparent: str


def _check_one(lead: DueLead, *, batch: _Batch, report: DispatchReport) -> _Dial | None:
    if not batch.tracing:
        return _checked(lead, batch=batch, report=report, traced=False)
    # Each lead in the push's trace, not the beat-started batch's: its Call keeps this span.
    with span_from(lead.traceparent, "lead.dispatch", attributes={"breeze.lead_id": lead.pk}):
        return _checked(lead, batch=batch, report=report, traced=True)


def _checked(lead: DueLead, *, batch: _Batch, report: DispatchReport, traced: bool) -> _Dial | None:
    now = batch.now
    if lead.pk in batch.blocked:
        # Listed after the push: checked again here, at the last moment before a dial.
        lead_block(lead_id=lead.pk, actor=ACTOR)
        report.failed += 1
        return None
    version = batch.versions[lead.template_version_id]
    opening = batch.opening(lead, version)
    if opening is None:
        _fail(lead, disposition="failed", reason="the template's calling windows never open")
        report.failed += 1
        return None
    if opening > now:
        batch.wait(
            lead.pk, until=opening, reason=f"outside calling window until {opening.isoformat()}"
        )
        report.rescheduled += 1
        return None
    wait_until = batch.number_cap.next_allowed(lead)
    if wait_until is not None:
        batch.wait(lead.pk, until=wait_until, reason="calls to this number per hour at their cap")
        report.rescheduled += 1
        return None
    refusal = version.refusal(lead.execution_mode)
    if refusal is None:
        try:
            call_payload_check(version=version.version, payload=json.loads(lead.payload))
        except ApplicationError as error:
            refusal = error.message
    if refusal is not None:
        # The pinned version refuses this call (mode no longer allowed, payload invalid):
        # retrying cannot change a published version, so the lead fails with the reason.
        _fail(lead, disposition="failed", reason=f"call refused: {refusal}")
        report.failed += 1
        return None
    # Counted before the limiter answers: a refused lead may make a later lead to the same
    # number wait, never let one more through.
    batch.number_cap.dialled(lead)
    # The dispatch's span (in the push's trace): dial, media, worker and events join it.
    # Without tracing here, the push's own context passes on, as the no-op span would pass it.
    traceparent = traceparent_current() if traced else traceparent_relayed(lead.traceparent)
    return _Dial(lead=lead, version=version, traceparent=traceparent)


def _slots(dial: _Dial, call_id: int, *, limits: Limits) -> list[Slot]:
    lead = dial.lead
    return call_slots(
        merchant_id=lead.merchant_id,
        merchant_cap=limits.concurrent_calls,
        template_id=lead.template_id,
        template_cap=dial.version.execution.get("concurrency_cap"),
        # The number the call's first provider gives it (`leased_caller_number`).
        caller_number=select_number(dial.version.first, call_id=call_id),
        caller_cap=limits.concurrent_calls_per_caller_number,
    )


def _admit(dials: list[_Dial], *, batch: _Batch, report: DispatchReport) -> list[tuple[_Dial, int]]:
    """The dials that got their limiter slots, with their call ids; the others wait, with no Call."""
    reserved = list(zip(dials, call_ids_reserve(count=len(dials)), strict=True))
    why = "at concurrency cap"
    try:
        granted = limiter_acquire_many(
            calls=[
                (call_id, _slots(dial, call_id, limits=batch.limits[dial.lead.merchant_id]))
                for dial, call_id in reserved
            ],
            client=limiter_redis(),
        )
    except redis.RedisError:
        why, granted = "limiter unavailable", [False] * len(dials)
    retry_at = batch.now + dt.timedelta(seconds=settings.BREEZE_LIMITER_RETRY_SECONDS)
    admitted = []
    for (dial, call_id), ok in zip(reserved, granted, strict=True):
        if ok:
            admitted.append((dial, call_id))
        else:
            batch.wait(dial.lead.pk, until=retry_at, reason=why)
            report.rescheduled += 1
    return admitted


def _waits_write(batch: _Batch) -> None:
    """The leads that stay scheduled, one statement per (next attempt, reason)."""
    for (until, reason), lead_ids in batch.waits.items():
        leads_transition_set(
            lead_ids=lead_ids,
            from_status=Status.SCHEDULED,
            to_status=Status.SCHEDULED,
            actor=ACTOR,
            reason=reason,
            next_attempt_at=until,
        )


def _dial_all(admitted: list[tuple[_Dial, int]]) -> None:
    """Move every admitted lead scheduled → dialing with its history row, and write the Calls.

    The claim holds these rows locked and still `scheduled`, so the one conditional UPDATE
    moves all of them; anything else means the claim was broken, and the batch rolls back.
    """
    moved = leads_transition_set(
        lead_ids=[dial.lead.pk for dial, _ in admitted],
        from_status=Status.SCHEDULED,
        to_status=Status.DIALING,
        actor=ACTOR,
        reason="attempt",
        next_attempt_at=None,
        count_attempt=True,
    )
    if moved != len(admitted):
        raise RuntimeError(
            f"dispatch: {moved} of {len(admitted)} claimed leads were still scheduled"
        )
    calls_insert_new(
        calls=[
            NewCall(
                id=call_id,
                merchant_id=dial.lead.merchant_id,
                template_version_id=dial.lead.template_version_id,
                lead_id=dial.lead.pk,
                execution_mode=dial.lead.execution_mode,
                provider=dial.version.first.provider,
                customer_phone=dial.lead.phone,
                payload=dial.lead.payload,
                traceparent=dial.traceparent,
            )
            for dial, call_id in admitted
        ]
    )


def leads_dispatch_batch(*, limit: int | None = None) -> DispatchReport:
    """Claim one batch of due leads and turn each into a call, a reschedule or a failure.

    All of it commits together with the row locks released; only then are the calls placed,
    by one message for the batch. The checks run in Python on tuples, with what leads share
    (their version's rules, a window's next opening) worked out once; the writes are
    set-wise: one limiter round trip, one statement moving the dialled leads with their
    history rows, one per group of leads that wait, one COPY of their Calls.
    """
    report = DispatchReport()
    now = timezone.now()
    with transaction.atomic():
        leads = leads_claim_due(now=now, limit=limit or settings.BREEZE_DISPATCH_BATCH)
        report.claimed = len(leads)
        if not leads:
            return report
        batch = _Batch(leads, now=now)
        checked = [_check_one(lead, batch=batch, report=report) for lead in leads]
        dials = [dial for dial in checked if dial is not None]
        admitted = _admit(dials, batch=batch, report=report) if dials else []
        _waits_write(batch)
        if admitted:
            _dial_all(admitted)
        report.dialled = [call_id for _, call_id in admitted]
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
