"""CSV imports: checked up front, then streamed into leads in chunks by a Celery task.

The file is read twice, row by row, never whole: once to count rows (so progress has a
total, and a file that is not UTF-8 or not CSV fails before any lead is stored), then to
import them. Each chunk is one transaction holding the leads, their history rows, the row
errors and the new progress counters; a worker killed mid-chunk leaves the chunk unwritten,
and the re-delivered task resumes after the last committed row. Rows are numbered as a
spreadsheet shows them (the header is row 1), and (import, row) is unique, so no row can
become two leads.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.call_config import DAILY_EXECUTION_MODES
from leads.campaigns.services import campaign_for_import
from leads.exceptions import LeadRequestTooLargeError, LeadValidationError
from leads.inserts import copy_insert
from leads.models import Lead, LeadImport, LeadImportError
from leads.services import (
    actor_label,
    dispatch_kick,
    lead_creation_history,
    lead_rules_get,
    lead_template_resolve,
    lead_unsaved,
    may_use_playground,
)
from leads.types import Problem
from leads.validation import LeadRules, execution_mode_problems, lead_clean

if TYPE_CHECKING:
    from config.selectors import AnyUser

PHONE_COLUMN = "phone"
# Columns that set lead fields; every other column is a payload variable.
LEAD_COLUMNS = ("time_zone", "scheduled_at", "webhook_url")
# A chunk is committed when full or after this long, so progress moves at least once a
# second even on a loaded machine (a commit itself takes a few hundred ms under load).
PROGRESS_INTERVAL_SECONDS = 0.25
_INTEGER = re.compile(r"[+-]?\d+")
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not UTF-8, not CSV, no phone column)."""


def _lines(binary: IO[bytes]) -> Iterator[str]:
    """Text lines, decoded one by one so a bad byte is reported on its own line."""
    for number, raw in enumerate(binary, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ImportFileError(f"The file is not UTF-8 text (line {number}).") from error
        yield line.removeprefix("\ufeff") if number == 1 else line


def _records(binary: IO[bytes]) -> Iterator[list[str]]:
    """CSV records, header first; file-level problems become ImportFileError."""
    reader = csv.reader(_lines(binary), strict=True)
    try:
        yield from reader
    except csv.Error as error:
        raise ImportFileError(f"Malformed CSV at line {reader.line_num}: {error}.") from error


def header_problems(header: list[str], *, rules: LeadRules) -> list[str]:
    columns = [column.strip() for column in header]
    problems = []
    if PHONE_COLUMN not in columns:
        problems.append("The header has no phone column.")
    if len(set(columns)) != len(columns):
        problems.append("The header repeats a column.")
    if rules.version.definition.get("variables_strict", False):
        known = {PHONE_COLUMN, *LEAD_COLUMNS, *rules.variable_names}
        unknown = [column for column in columns if column not in known]
        if unknown:
            problems.append(
                f"Columns that are not variables of this template: {', '.join(unknown)}."
            )
    return problems


def lead_import_check(
    *,
    user: AnyUser,
    file: UploadedFile,
    template: str,
    merchant: str | None,
    execution_mode: str,
) -> LeadRules:
    """Refuse now what would fail every row: the template, the mode, the size and the header."""
    limit = settings.BREEZE_LEADS_IMPORT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise LeadRequestTooLargeError(f"The file is larger than {limit} bytes.", field="file")
    chosen = lead_template_resolve(user=user, template=template, merchant=merchant)
    rules = lead_rules_get(
        template=chosen, may_use_playground=may_use_playground(user=user, template=chosen)
    )
    mode_problems = execution_mode_problems(execution_mode, rules=rules)
    if mode_problems:
        raise LeadValidationError({"execution_mode": mode_problems})
    try:
        # One line is enough for the header; the whole file is checked by the task.
        header = next(_records(io.BytesIO(file.readline(65536))), [])
    except ImportFileError as error:
        raise LeadValidationError({"file": [Problem("invalid", str(error))]}) from error
    problems = header_problems(header, rules=rules)
    if problems:
        raise LeadValidationError({"file": [Problem("invalid", message) for message in problems]})
    file.seek(0)
    return rules


def lead_import_start(
    *,
    user: AnyUser,
    file: UploadedFile,
    template: str,
    merchant: str | None,
    execution_mode: str,
) -> LeadImport:
    """Store the file and enqueue its import after commit; the checks above run first."""
    rules = lead_import_check(
        user=user, file=file, template=template, merchant=merchant, execution_mode=execution_mode
    )
    lead_import = LeadImport(
        merchant_id=rules.template.merchant_id,
        template=rules.template,
        execution_mode=execution_mode,
        original_name=(file.name or "")[:255],
        created_by=actor_label(user),
    )
    lead_import.file.save(f"import-{rules.template.merchant_id}.csv", file, save=False)
    lead_import.save()
    from leads.tasks import lead_import_run_task  # the task module imports this one

    transaction.on_commit(lambda: lead_import_run_task.delay(lead_import.pk))
    return lead_import


def _coerce(value: str, kind: str) -> Any:
    """CSV cells are text; read them as the variable's declared type where they parse."""
    if kind == "integer" and _INTEGER.fullmatch(value):
        return int(value)
    if kind == "number":
        try:
            return float(value) if not _INTEGER.fullmatch(value) else int(value)
        except ValueError:
            return value
    if kind == "boolean" and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    return value


@dataclass
class _Chunk:
    first_row: int
    leads: list[Lead]
    errors: list[LeadImportError]
    rows: int = 0


class _RowReader:
    """Turns one CSV record into a lead of the import, or into its row errors."""

    def __init__(self, lead_import: LeadImport, header: list[str], rules: LeadRules) -> None:
        self.lead_import = lead_import
        self.columns = [column.strip() for column in header]
        self.rules = rules
        self.kinds = {
            variable["name"]: variable["type"]
            for variable in rules.version.definition.get("variables", [])
        }

    def read(self, row: int, record: list[str], chunk: _Chunk, now: Any) -> None:
        if len(record) != len(self.columns):
            if not any(cell.strip() for cell in record):
                return  # blank lines are not rows with errors
            chunk.errors.append(
                self._error(row, "row", f"Expected {len(self.columns)} columns, got {len(record)}.")
            )
            return
        data: dict[str, Any] = {"execution_mode": self.lead_import.execution_mode}
        payload: dict[str, Any] = {}
        for column, cell in zip(self.columns, record, strict=True):
            value = cell.strip()
            if column == PHONE_COLUMN or column in LEAD_COLUMNS:
                data[column] = value or None
            elif value:
                payload[column] = _coerce(value, self.kinds.get(column, "string"))
        data["payload"] = payload
        try:
            clean = lead_clean(data, rules=self.rules)
        except LeadValidationError as error:
            chunk.errors.extend(
                self._error(row, path.removeprefix("payload."), problem.message)
                for path, problems in error.problems.items()
                for problem in problems
            )
            return
        lead = lead_unsaved(
            clean,
            rules=self.rules,
            fingerprint="",
            created_by=self.lead_import.created_by,
            now=now,
        )
        lead.lead_import = self.lead_import
        lead.import_row = row
        chunk.leads.append(lead)

    def _error(self, row: int, field: str, reason: str) -> LeadImportError:
        return LeadImportError(
            lead_import=self.lead_import, row=row, field=field[:200], reason=reason[:500]
        )


def _count_rows(lead_import: LeadImport) -> int:
    with lead_import.file.open("rb") as binary:
        return sum(1 for _ in _records(binary)) - 1


def _chunk_commit(lead_import: LeadImport, chunk: _Chunk) -> bool:
    """Store one chunk and its progress together; False if another run already advanced."""
    with transaction.atomic():
        done = (
            LeadImport.objects.select_for_update()
            .values_list("processed_rows", flat=True)
            .get(pk=lead_import.pk)
        )
        if done != chunk.first_row - 2:
            return False
        # Under the import's lock, which campaign creation takes too: rows of an import a
        # campaign was made from join it, waiting for its tick instead of the dispatcher.
        campaign_id = campaign_for_import(lead_import_id=lead_import.pk)
        if campaign_id is not None:
            # Daily leads wait for their client, not for a campaign's dialling.
            for lead in chunk.leads:
                if lead.execution_mode not in DAILY_EXECUTION_MODES:
                    lead.campaign_id, lead.status = campaign_id, Lead.Status.QUEUED
        copy_insert(chunk.leads, assign_ids=True)
        copy_insert(
            lead_creation_history(chunk.leads, reason=f"CSV import {lead_import.pk}"),
            assign_ids=False,
        )
        LeadImportError.objects.bulk_create(chunk.errors, batch_size=2000)
        failed_rows = len({error.row for error in chunk.errors})
        LeadImport.objects.filter(pk=lead_import.pk).update(
            processed_rows=F("processed_rows") + chunk.rows,
            ok_rows=F("ok_rows") + len(chunk.leads),
            failed_rows=F("failed_rows") + failed_rows,
            updated_at=timezone.now(),
        )
    dispatch_kick(leads=chunk.leads)
    return True


def lead_import_run(*, import_id: int) -> None:
    """Import (or resume importing) the rows of one CSV; safe to run again at any point."""
    claimed = LeadImport.objects.filter(
        pk=import_id, status__in=[LeadImport.Status.PENDING, LeadImport.Status.RUNNING]
    ).update(
        status=LeadImport.Status.RUNNING,
        started_at=Coalesce(F("started_at"), timezone.now()),
        updated_at=timezone.now(),
    )
    if not claimed:
        return
    lead_import = LeadImport.objects.select_related("template__merchant").get(pk=import_id)
    try:
        # CSV rows carry no playground overrides.
        rules = lead_rules_get(template=lead_import.template, may_use_playground=False)
        if lead_import.total_rows is None:
            LeadImport.objects.filter(pk=import_id).update(total_rows=_count_rows(lead_import))
        finished = _import_rows(lead_import, rules)
    except (ImportFileError, LeadValidationError) as error:
        message = error.message if isinstance(error, LeadValidationError) else str(error)
        LeadImport.objects.filter(pk=import_id).update(
            status=LeadImport.Status.FAILED, error=message[:500], finished_at=timezone.now()
        )
        return
    if finished:
        LeadImport.objects.filter(pk=import_id, status=LeadImport.Status.RUNNING).update(
            status=LeadImport.Status.COMPLETED, finished_at=timezone.now()
        )


def _import_rows(lead_import: LeadImport, rules: LeadRules) -> bool:
    chunk_rows: int = settings.BREEZE_LEADS_IMPORT_CHUNK_ROWS
    resume_after = lead_import.processed_rows + 1  # the last committed spreadsheet row
    with lead_import.file.open("rb") as binary:
        records = _records(binary)
        header = next(records, [])
        reader = _RowReader(lead_import, header, rules)
        chunk = _Chunk(first_row=resume_after + 1, leads=[], errors=[])
        flushed_at = time.monotonic()
        now = timezone.now()
        for row, record in enumerate(records, start=2):
            if row <= resume_after:
                continue
            reader.read(row, record, chunk, now)
            chunk.rows += 1
            if (
                chunk.rows >= chunk_rows
                or time.monotonic() - flushed_at >= PROGRESS_INTERVAL_SECONDS
            ):
                if not _chunk_commit(lead_import, chunk):
                    return False
                chunk = _Chunk(first_row=row + 1, leads=[], errors=[])
                flushed_at, now = time.monotonic(), timezone.now()
        if chunk.rows and not _chunk_commit(lead_import, chunk):
            return False
    return True
