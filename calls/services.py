"""Writes for calls. Every status change is a conditional UPDATE: a call never moves backwards."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple, Required, TypedDict, Unpack

from django.db import connection, transaction
from django.db.models import Case, F, JSONField, Value, When
from django.utils import timezone
from django.utils.module_loading import import_string
from psycopg import sql as psycopg_sql

from calls.exceptions import CallNotAllowedError
from calls.extraction.services import call_extraction_begin
from calls.live.services import call_live_status_publish
from calls.models import STATUS_RANK, Call, Turn
from calls.webhooks.call_events import call_event_emit
from calls.webhooks.events import EventType
from config.tracing.context import traceparent_current
from templates_app.definition.variables import payload_issues
from templates_app.exceptions import TemplateValidationError
from templates_app.models import TemplateVersion

Status = Call.Status
# The one leads service calls tell when an attempt is answered or ends (ARCHITECTURE.md,
# dependency direction): by name, because leads builds on calls and calls cannot import it.
LEAD_ATTEMPT_CHANGED = "leads.dispatch.outcome.lead_attempt_changed"


class CallFields(TypedDict, total=False):
    """What a new call is made of (`call_create`, `call_build`)."""

    version: Required[TemplateVersion]
    execution_mode: Required[str]
    provider: Required[str]
    customer_phone: str
    payload: Mapping[str, Any] | None
    lead_id: int | None


def call_create(**fields: Unpack[CallFields]) -> Call:
    """Create the call row before anything is dialled; refuses what the template cannot run."""
    call = call_build(**fields)
    call.save(force_insert=True)
    return call


def call_build(
    *,
    version: TemplateVersion,
    execution_mode: str,
    provider: str,
    customer_phone: str = "",
    payload: Mapping[str, Any] | None = None,
    lead_id: int | None = None,
) -> Call:
    """The unsaved call row `call_create` would write; refuses what the template cannot run."""
    call_mode_check(version=version, execution_mode=execution_mode)
    call_payload_check(version=version, payload=payload or {})
    return Call(
        merchant_id=version.template.merchant_id,
        template_version=version,
        execution_mode=execution_mode,
        provider=provider,
        customer_phone=customer_phone,
        payload=dict(payload or {}),
        lead_id=lead_id,
        media_token_nonce=secrets.token_urlsafe(24),
        # The dispatch's span (in the push's trace): dial, media, worker and events join it.
        traceparent=traceparent_current(),
    )


def call_mode_check(*, version: TemplateVersion, execution_mode: str) -> None:
    """Refuse a call the version cannot run in this mode (the same for all its leads)."""
    if version.status != TemplateVersion.Status.PUBLISHED:
        raise CallNotAllowedError(f"v{version.number} is not published", field="template")
    allowed = version.definition.get("execution", {}).get("execution_modes")
    if allowed and execution_mode not in allowed:
        raise CallNotAllowedError(
            f"this template does not allow {execution_mode} calls", field="execution_mode"
        )


def call_payload_check(*, version: TemplateVersion, payload: Mapping[str, Any]) -> None:
    """Refuse a payload the version's variables cannot use."""
    issues = payload_issues(definition=version.definition, payload=payload)
    if issues:
        raise TemplateValidationError(issues)


class NewCall(NamedTuple):
    """A call written in bulk by `calls_insert_new`: what differs from one call to the next."""

    id: int  # from `call_ids_reserve`
    merchant_id: int
    template_version_id: int
    lead_id: int | None
    execution_mode: str
    provider: str
    customer_phone: str
    payload: str  # a JSON object, as text
    traceparent: str


def _new_call_columns() -> tuple[list[str], list[Any]]:
    """The columns of a new call's row: NewCall's, the nonce and timestamps, then the rest.

    With the rest's defaults, the same for every call.
    """
    by_attname = {field.attname: field for field in Call._meta.concrete_fields}
    given = [*NewCall._fields, "media_token_nonce", "created_at", "updated_at"]
    rest = [field for attname, field in by_attname.items() if attname not in given]
    defaults = [
        json.dumps(field.get_default()) if isinstance(field, JSONField) else field.get_default()
        for field in rest
    ]
    columns = [by_attname[attname].column for attname in given]
    return [*columns, *(field.column for field in rest)], defaults


def calls_insert_new(*, calls: Sequence[NewCall]) -> None:
    """Write new calls (checked with `call_mode_check` and `call_payload_check`) in one COPY.

    Rows go in as tuples: building a Call object and Django's bulk_create preparing each of
    its cells cost a dispatcher more than all its checks (docs/benchmarks.md, Dispatch).
    Each call gets its own single-use media-token nonce, as `call_build` gives one.
    """
    if not calls:
        return
    columns, defaults = _new_call_columns()
    now = timezone.now()
    statement = psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg_sql.Identifier(Call._meta.db_table),
        psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(column) for column in columns),
    )
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for call in calls:
            copy.write_row((*call, secrets.token_urlsafe(24), now, now, *defaults))


def call_ids_reserve(*, count: int) -> list[int]:
    """`count` fresh call ids from the table's own sequence, for rows written later in bulk."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Call._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _earlier_than(status: str) -> list[str]:
    return [value for value, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]


def call_advance(*, call_id: int, status: str, **fields: Any) -> bool:
    """Move a call forward to `status`; False (and no change) if it is already there or past it."""
    updated = Call.objects.filter(pk=call_id, status__in=_earlier_than(status)).update(
        status=status, updated_at=timezone.now(), **fields
    )
    return updated == 1


_MARK_DIALING = f"""
UPDATE {Call._meta.db_table} SET status = %s, started_at = %s, updated_at = %s
WHERE id = ANY(%s) AND status = ANY(%s)
RETURNING *
"""  # noqa: S608  (the table name from the model, values as parameters)


def calls_mark_dialing(*, call_ids: Sequence[int]) -> list[Call]:
    """Move every one of `call_ids` still `queued` to `dialing`; the calls it moved, loaded.

    One conditional UPDATE … RETURNING for a whole placement batch: a call another
    placement moved first is not returned, so no call is handed to its provider twice.
    Committed at once outside a transaction, which is what makes a repeated batch dial nothing.
    """
    if not call_ids:
        return []
    now = timezone.now()
    moved = Call.objects.raw(
        _MARK_DIALING, [Status.DIALING, now, now, list(call_ids), _earlier_than(Status.DIALING)]
    )
    return sorted(moved, key=lambda call: call.pk)


def call_dialing_renew(*, call_id: int) -> bool:
    """Confirm a claimed call is still `dialing` and restart its stuck-call clock; False if not.

    For a call whose placement reaches it long after its claim: the stuck-call reconciler
    may have ended it meanwhile, and it must then not be dialled.
    """
    renewed = Call.objects.filter(pk=call_id, status=Status.DIALING).update(
        updated_at=timezone.now()
    )
    return renewed == 1


def call_mark_in_progress(*, call_id: int, worker_id: str) -> bool:
    now = timezone.now()
    with transaction.atomic():
        advanced = call_advance(
            call_id=call_id,
            status=Status.IN_PROGRESS,
            worker_id=worker_id,
            answered_at=now,
            started_at=Case(
                When(started_at__isnull=True, then=Value(now)), default=F("started_at")
            ),
        )
        if advanced:
            call_event_emit(call_id=call_id, event_type=EventType.CALL_STARTED)
            import_string(LEAD_ATTEMPT_CHANGED)(call_id=call_id)
    return advanced


def call_end(*, call_id: int, disposition: str, end_reason: str) -> bool:
    """End a call once; later reports (a callback after the worker's) change nothing."""
    with transaction.atomic():
        ended = call_advance(
            call_id=call_id,
            status=Status.ENDED,
            disposition=disposition,
            end_reason=end_reason,
            ended_at=timezone.now(),
        )
        # With post-call extraction, call.completed waits for its result (or deadline).
        if ended and not call_extraction_begin(call_id=call_id):
            call_event_emit(call_id=call_id, event_type=EventType.CALL_COMPLETED)
        if ended:
            # The lead is completed or rescheduled in this transaction, with its events.
            import_string(LEAD_ATTEMPT_CHANGED)(call_id=call_id)
            transaction.on_commit(partial(call_live_status_publish, call_id=call_id))
    return ended


def call_record_turn(
    *,
    call_id: int,
    index: int,
    speaker: str,
    text: str,
    node: str = "",
    function_called: str = "",
    started_offset_ms: int | None = None,
    ended_offset_ms: int | None = None,
    latency: Mapping[str, int | None] | None = None,
) -> Turn:
    """Store one turn; writing the same index again (a retry) returns the stored turn."""
    latency = latency or {}
    turn, _ = Turn.objects.get_or_create(
        call_id=call_id,
        index=index,
        defaults={
            "speaker": speaker,
            "text": text,
            "node": node,
            "function_called": function_called,
            "started_offset_ms": started_offset_ms,
            "ended_offset_ms": ended_offset_ms,
            "latency_ms": latency.get("total_ms"),
            "stt_ms": latency.get("stt_ms"),
            "llm_ms": latency.get("llm_ms"),
            "tts_ms": latency.get("tts_ms"),
        },
    )
    return turn


def call_record_node(*, call_id: int, node: str) -> None:
    """Append a node to the call's path (under a row lock, so concurrent appends keep order)."""
    with transaction.atomic():
        call = Call.objects.select_for_update().only("node_path").get(pk=call_id)
        Call.objects.filter(pk=call_id).update(node_path=[*call.node_path, node])


def call_record_llm_fallback(*, call_id: int, reason: str) -> bool:
    """Record that the call's LLM failed and the rules engine took over; the first one stands."""
    recorded = Call.objects.filter(pk=call_id, llm_fallback_at__isnull=True).update(
        llm_fallback_at=timezone.now(), llm_fallback_reason=reason[:255]
    )
    return bool(recorded)


def call_update_outcome(*, call_id: int, outcome: str, fields: Mapping[str, Any]) -> None:
    """Set the outcome word and merge its fields (an in-call hook may set them in steps)."""
    with transaction.atomic():
        call = Call.objects.select_for_update().only("outcome_fields").get(pk=call_id)
        Call.objects.filter(pk=call_id).update(
            outcome=outcome, outcome_fields={**call.outcome_fields, **fields}
        )
        call_event_emit(call_id=call_id, event_type=EventType.OUTCOME_UPDATED)
