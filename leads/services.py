"""Writes for leads. Every status change goes through `lead_transition` and leaves a history row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.call_config import DAILY_EXECUTION_MODES
from config.ids import parse_id
from config.selectors import scope_queryset, user_may
from config.tracing.context import traceparent_current
from config.types import Action, Resource
from leads.exceptions import (
    IdempotencyConflictError,
    LeadPermissionError,
    LeadRequestTooLargeError,
    LeadStateError,
    LeadValidationError,
)
from leads.inserts import copy_insert
from leads.models import Lead, LeadTransition
from leads.phones import region_for_time_zone
from leads.types import Errors, Problem
from leads.validation import (
    CleanLead,
    LeadRules,
    lead_clean,
    reject_nul,
    request_fingerprint,
)
from templates_app.models import Template
from templates_app.selectors import template_version_published

if TYPE_CHECKING:
    from config.selectors import AnyUser


def lead_transition(
    *,
    lead_id: int,
    from_statuses: Iterable[str],
    to_status: str,
    actor: str,
    reason: str = "",
    **fields: Any,
) -> bool:
    """Move a lead to `to_status` if it is in one of `from_statuses`; True if it moved.

    The row is locked, then updated on the same status condition, so of two concurrent moves
    from the same status exactly one wins; the loser changes nothing and writes no history.
    `fields` are set in the same UPDATE (next_attempt_at, attempts, last_disposition…).
    """
    allowed = list(from_statuses)
    now = timezone.now()
    with transaction.atomic():
        current = (
            Lead.objects.select_for_update()
            .filter(pk=lead_id, status__in=allowed)
            .values_list("status", flat=True)
            .first()
        )
        if current is None:
            return False
        Lead.objects.filter(pk=lead_id, status=current).update(
            status=to_status, updated_at=now, **fields
        )
        LeadTransition.objects.create(
            lead_id=lead_id,
            from_status=current,
            to_status=to_status,
            actor=actor,
            reason=reason[:300],
            at=now,
        )
    return True


_TRANSITION_SET = f"""
WITH moved AS (
    UPDATE {Lead._meta.db_table}
    SET status = %(to)s, next_attempt_at = %(next)s, updated_at = %(now)s,
        attempts = attempts + %(attempts)s
    WHERE id = ANY(%(ids)s) AND status = %(from)s
    RETURNING id, attempts
)
INSERT INTO {LeadTransition._meta.db_table} (lead_id, from_status, to_status, actor, reason, at)
SELECT id, %(from)s, %(to)s, %(actor)s,
       CASE WHEN %(numbered)s THEN %(reason)s || ' ' || attempts ELSE %(reason)s END, %(now)s
FROM moved
"""  # noqa: S608  (table names from the models, values as parameters)


def leads_transition_set(
    *,
    lead_ids: Sequence[int],
    from_status: str,
    to_status: str,
    actor: str,
    reason: str,
    next_attempt_at: dt.datetime | None,
    count_attempt: bool = False,
) -> int:
    """`lead_transition` for many leads in one statement; how many moved.

    For callers that hold the leads' row locks (the dispatcher's claim): each lead still in
    `from_status` moves and gets its history row; `count_attempt` adds one to its attempts and
    numbers the reason ("attempt 2").
    """
    if not lead_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _TRANSITION_SET,
            {
                "ids": list(lead_ids),
                "from": from_status,
                "to": to_status,
                "actor": actor,
                "reason": reason[:300],
                "next": next_attempt_at,
                "now": timezone.now(),
                "attempts": int(count_attempt),
                "numbered": count_attempt,
            },
        )
        moved: int = cursor.rowcount
    return moved


def actor_label(user: AnyUser) -> str:
    """Who did it, as history shows it: `user:<username>` or `api_key:<name> (<prefix>)`."""
    if isinstance(user, AbstractBaseUser):
        return f"user:{user.get_username()}"
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return f"api_key:{api_key.name} ({api_key.prefix})"
    return str(user)


def lead_template_resolve(*, user: AnyUser, template: object, merchant: object = None) -> Template:
    """The template a push names (id or slug, and the merchant's slug when ambiguous).

    A template outside the caller's merchants is "unknown", exactly like one that does not
    exist; one the caller can see but may not push leads to is a permission error.
    """
    visible = scope_queryset(
        Template.objects.select_related("merchant"), user=user, resource=Resource.LEAD
    )
    if isinstance(template, int) and not isinstance(template, bool):
        visible = visible.filter(pk=template)
    elif isinstance(template, str) and (template_id := parse_id(template)) is not None:
        visible = visible.filter(pk=template_id)
    elif isinstance(template, str) and template:
        visible = visible.filter(slug=template)
    else:
        raise LeadValidationError({"template": [Problem("required", "A template id or slug.")]})
    if merchant is not None:
        visible = visible.filter(merchant__slug=str(merchant))
    found = list(visible[:2])
    if not found:
        raise LeadValidationError({"template": [Problem("not_found", "Unknown template.")]})
    if len(found) > 1:
        raise LeadValidationError(
            {"merchant": [Problem("required", "Several of your merchants have this template.")]}
        )
    if not user_may(
        user=user, resource=Resource.LEAD, action=Action.ADD, merchant_id=found[0].merchant_id
    ):
        raise LeadPermissionError("Your role may not push leads for this merchant.")
    return found[0]


def may_use_playground(*, user: AnyUser, template: Template) -> bool:
    """Playground overrides change a template's config, so they need template change rights."""
    return user_may(
        user=user,
        resource=Resource.TEMPLATE,
        action=Action.CHANGE,
        merchant_id=template.merchant_id,
    )


def lead_rules_get(*, template: Template, may_use_playground: bool) -> LeadRules:
    """What leads for `template` are checked against: it must be active and published."""
    if not template.is_active:
        raise LeadValidationError({"template": [Problem("inactive", "The template is inactive.")]})
    version = template_version_published(template=template)
    if version is None:
        raise LeadValidationError(
            {"template": [Problem("unpublished", "The template has no published version.")]}
        )
    definition = version.definition
    modes = definition.get("execution", {}).get("execution_modes") or Lead.ExecutionMode.values
    return LeadRules(
        template=template,
        version=version,
        region=region_for_time_zone(template.merchant.time_zone),
        allowed_modes=frozenset(modes),
        may_use_playground=may_use_playground,
        variable_names=frozenset(variable["name"] for variable in definition.get("variables", [])),
    )


def _idempotency_key(data: Mapping[str, Any], header_key: str) -> str:
    body_key = data.get("idempotency_key") or ""
    if header_key and body_key and header_key != body_key:
        raise LeadValidationError(
            {
                "idempotency_key": [
                    Problem("invalid", "Differs from the Idempotency-Key header; send one.")
                ]
            }
        )
    key = header_key or body_key
    return key if isinstance(key, str) else ""


def lead_unsaved(
    clean: CleanLead, *, rules: LeadRules, fingerprint: str, created_by: str, now: dt.datetime
) -> Lead:
    # A Daily lead is never dialled: it waits `queued`, with no due time, for its client.
    waits = clean.execution_mode in DAILY_EXECUTION_MODES
    return Lead(
        merchant_id=rules.template.merchant_id,
        template=rules.template,
        template_version=rules.version,
        phone=clean.phone,
        payload=clean.payload,
        execution_mode=clean.execution_mode,
        time_zone=clean.time_zone,
        scheduled_at=clean.scheduled_at,
        idempotency_key=clean.idempotency_key,
        request_fingerprint=fingerprint if clean.idempotency_key else "",
        webhook_url=clean.webhook_url,
        is_playground=clean.is_playground,
        config_overrides=clean.config_overrides,
        status=Lead.Status.QUEUED if waits else Lead.Status.SCHEDULED,
        next_attempt_at=None if waits else clean.scheduled_at or now,
        created_by=created_by,
        # The push request's trace, which the dispatch of this lead joins later.
        traceparent=traceparent_current(),
    )


def _creation_reason(lead: Lead, *, reason: str) -> str:
    if lead.execution_mode in DAILY_EXECUTION_MODES and lead.status == Lead.Status.QUEUED:
        return f"{reason}; {lead.execution_mode} lead waits for a client to connect"
    return reason


def lead_creation_history(leads: Iterable[Lead], *, reason: str) -> list[LeadTransition]:
    return [
        LeadTransition(
            lead_id=lead.pk,
            from_status="",
            to_status=lead.status,
            actor=lead.created_by,
            reason=_creation_reason(lead, reason=reason),
            at=lead.created_at,
        )
        for lead in leads
    ]


def _lead_with_key(*, merchant_id: int, key: str, fingerprint: str) -> Lead | None:
    """The lead pushed earlier with this key; a different body under the same key is refused."""
    lead = Lead.objects.filter(merchant_id=merchant_id, idempotency_key=key).first()
    if lead is not None and lead.request_fingerprint != fingerprint:
        raise IdempotencyConflictError(
            "This idempotency key was used for a different lead.", field="idempotency_key"
        )
    return lead


def lead_create(
    *, user: AnyUser, data: Mapping[str, Any], idempotency_key: str = ""
) -> tuple[Lead, bool]:
    """Push one lead; (lead, created). A repeated key with the same body gives the first lead.

    `data` is the request body as parsed JSON; `idempotency_key` the header, if any.
    """
    reject_nul(data)
    key = _idempotency_key(data, idempotency_key)
    template = lead_template_resolve(
        user=user, template=data.get("template"), merchant=data.get("merchant")
    )
    fingerprint = request_fingerprint(data)
    if key:
        earlier = _lead_with_key(merchant_id=template.merchant_id, key=key, fingerprint=fingerprint)
        if earlier is not None:
            return earlier, False
    rules = lead_rules_get(
        template=template, may_use_playground=may_use_playground(user=user, template=template)
    )
    clean = lead_clean(data, rules=rules)
    clean.idempotency_key = key
    lead = lead_unsaved(
        clean,
        rules=rules,
        fingerprint=fingerprint,
        created_by=actor_label(user),
        now=timezone.now(),
    )
    try:
        with transaction.atomic():
            lead.save(force_insert=True)
            LeadTransition.objects.bulk_create(lead_creation_history([lead], reason="pushed"))
    except IntegrityError:
        # A concurrent push with the same key won the insert; answer with its lead.
        earlier = _lead_with_key(merchant_id=template.merchant_id, key=key, fingerprint=fingerprint)
        if not key or earlier is None:
            raise
        return earlier, False
    dispatch_kick(leads=[lead])
    return lead, True


def dispatch_kick(*, leads: Iterable[Lead]) -> None:
    """Ask the dispatcher to look for due leads now, once this transaction commits.

    The one place pushes and dispatch-now reach the dispatcher; beat catches leads that
    come due later. Leads to numbers on a do-not-call list end `failed`/`blocked` here, at
    push, rather than waiting for the dispatcher's own check at dial.
    """
    # Imported here: both modules build on these services.
    from leads.dispatch.dnc import leads_block_listed
    from leads.tasks import dispatch_due_leads

    leads = list(leads)
    blocked = leads_block_listed(leads=leads, actor="do-not-call list")
    leads = [lead for lead in leads if lead.pk not in blocked]
    if not settings.BREEZE_DISPATCH_KICK:
        return
    now = timezone.now()
    if not any(lead.next_attempt_at is not None and lead.next_attempt_at <= now for lead in leads):
        return
    transaction.on_commit(dispatch_due_leads.delay)


def _prefixed(prefix: str, problems: Errors) -> Errors:
    return {f"{prefix}.{path}": items for path, items in problems.items()}


@dataclass(frozen=True)
class _BulkItem:
    index: int
    rules: LeadRules
    clean: CleanLead
    fingerprint: str


def _bulk_clean(*, user: AnyUser, items: Sequence[Any]) -> list[_BulkItem]:
    """Check every item, resolving each distinct template once; all problems or none."""
    problems: Errors = {}
    rules_by_ref: dict[tuple[str, str], LeadRules | LeadValidationError] = {}
    checked: list[_BulkItem] = []
    seen_keys: set[tuple[int, str]] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems[f"leads.{index}"] = [Problem("invalid", "Each lead is a JSON object.")]
            continue
        try:
            # Before the template lookup: a NUL in a slug cannot even be queried.
            reject_nul(item)
        except LeadValidationError as error:
            problems.update(_prefixed(f"leads.{index}", error.problems))
            continue
        ref = (str(item.get("template")), str(item.get("merchant", "")))
        if ref not in rules_by_ref:
            try:
                template = lead_template_resolve(
                    user=user, template=item.get("template"), merchant=item.get("merchant")
                )
                rules_by_ref[ref] = lead_rules_get(
                    template=template,
                    may_use_playground=may_use_playground(user=user, template=template),
                )
            except LeadValidationError as error:
                rules_by_ref[ref] = error
        rules = rules_by_ref[ref]
        try:
            if isinstance(rules, LeadValidationError):
                raise rules
            clean = lead_clean(item, rules=rules)
        except LeadValidationError as error:
            problems.update(_prefixed(f"leads.{index}", error.problems))
            continue
        scoped_key = (rules.template.merchant_id, clean.idempotency_key)
        if clean.idempotency_key and scoped_key in seen_keys:
            problems[f"leads.{index}.idempotency_key"] = [
                Problem("duplicate", "Used by an earlier lead of this request.")
            ]
        seen_keys.add(scoped_key)
        checked.append(_BulkItem(index, rules, clean, request_fingerprint(item)))
    if problems:
        raise LeadValidationError(problems)
    return checked


def _earlier_by_key(items: list[_BulkItem]) -> dict[tuple[int, str], Lead]:
    keys = [item.clean.idempotency_key for item in items if item.clean.idempotency_key]
    if not keys:
        return {}
    merchant_ids = {item.rules.template.merchant_id for item in items}
    earlier = Lead.objects.filter(merchant_id__in=merchant_ids, idempotency_key__in=keys)
    by_key = {(lead.merchant_id, lead.idempotency_key): lead for lead in earlier}
    problems: Errors = {}
    for item in items:
        lead = by_key.get((item.rules.template.merchant_id, item.clean.idempotency_key))
        if lead is not None and lead.request_fingerprint != item.fingerprint:
            problems[f"leads.{item.index}.idempotency_key"] = [
                Problem("idempotency_conflict", "This key was used for a different lead.")
            ]
    if problems:
        raise LeadValidationError(problems)
    return by_key


def leads_bulk_create(*, user: AnyUser, leads: Sequence[Any]) -> list[tuple[Lead, bool]]:
    """Push many leads at once, all or nothing: (lead, created) per item, in input order.

    All-or-nothing keeps one request one outcome: the client never reconciles a half-stored
    batch, fixes the items named `leads.<index>.<field>` and sends it again; items whose
    idempotency key was stored before come back as they were (created False), so resending a
    batch after a timeout is safe. Items are checked in Python, then stored with one COPY
    for the leads and one for their history.
    """
    if len(leads) > settings.BREEZE_LEADS_BULK_MAX:
        raise LeadRequestTooLargeError(
            f"At most {settings.BREEZE_LEADS_BULK_MAX} leads per request.", field="leads"
        )
    if not leads:
        raise LeadValidationError({"leads": [Problem("required", "At least one lead.")]})
    items = _bulk_clean(user=user, items=leads)
    created_by = actor_label(user)
    for attempt in range(2):
        earlier = _earlier_by_key(items)
        now = timezone.now()
        results: list[tuple[Lead, bool]] = []
        for item in items:
            found = earlier.get((item.rules.template.merchant_id, item.clean.idempotency_key))
            if found is not None:
                results.append((found, False))
            else:
                lead = lead_unsaved(
                    item.clean,
                    rules=item.rules,
                    fingerprint=item.fingerprint,
                    created_by=created_by,
                    now=now,
                )
                results.append((lead, True))
        new = [lead for lead, created in results if created]
        try:
            with transaction.atomic():
                copy_insert(new, assign_ids=True)
                copy_insert(lead_creation_history(new, reason="bulk push"), assign_ids=False)
        except IntegrityError:
            # A concurrent push stored one of these keys first: look the keys up again once.
            if attempt:
                raise
            continue
        dispatch_kick(leads=new)
        return results
    raise AssertionError("unreachable")  # pragma: no cover


def lead_cancel(*, lead_id: int, actor: str, reason: str = "") -> Lead:
    """Stop a lead that is not being called; cancelling a cancelled lead changes nothing."""
    lead_transition(
        lead_id=lead_id,
        from_statuses=[Lead.Status.QUEUED, Lead.Status.SCHEDULED],
        to_status=Lead.Status.CANCELLED,
        actor=actor,
        reason=reason or "cancelled",
        next_attempt_at=None,
    )
    lead = Lead.objects.get(pk=lead_id)
    if lead.status != Lead.Status.CANCELLED:
        raise LeadStateError(f"A {lead.get_status_display().lower()} lead cannot be cancelled.")
    return lead


def lead_dispatch_now(*, lead_id: int, actor: str) -> Lead:
    """Make a waiting lead due now (skipping its scheduled time or retry delay) and kick dispatch.

    Calling windows, limits and DNC still apply when the dispatcher picks it up. A campaign's
    lead is released only by its campaign, which keeps its rate, concurrency and pauses.
    """
    if Lead.objects.filter(pk=lead_id, campaign__isnull=False).exists():
        raise LeadStateError("A campaign's lead is dialled by its campaign; start or resume it.")
    if Lead.objects.filter(pk=lead_id, execution_mode__in=DAILY_EXECUTION_MODES).exists():
        raise LeadStateError("A Daily lead is never dialled; its client connects to it.")
    moved = lead_transition(
        lead_id=lead_id,
        from_statuses=[Lead.Status.QUEUED, Lead.Status.SCHEDULED],
        to_status=Lead.Status.SCHEDULED,
        actor=actor,
        reason="dispatch now",
        next_attempt_at=timezone.now(),
    )
    lead = Lead.objects.get(pk=lead_id)
    if not moved:
        raise LeadStateError(f"A {lead.get_status_display().lower()} lead cannot be dispatched.")
    dispatch_kick(leads=[lead])
    return lead
