"""Many new rows in one COPY: the fast path for bulk pushes and CSV chunks.

Django's bulk_create compiles one parameter per cell and sends them as arrays; for 10,000
leads that costs seconds. COPY streams the rows as text instead. Ids are taken from the
table's own sequence first, so callers get their leads' ids exactly as with an INSERT, and
the caller's transaction covers the COPY like any other statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg import sql


def copy_insert(objs: Sequence[models.Model], *, assign_ids: bool) -> None:
    """Insert `objs` (all of one model, not yet saved); with `assign_ids`, set their pks."""
    if not objs:
        return
    meta = type(objs[0])._meta
    fields = [field for field in meta.concrete_fields if assign_ids or not field.primary_key]
    now = timezone.now()
    with connection.cursor() as cursor:
        if assign_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
        for field in fields:
            # auto_now / auto_now_add are applied by save(), which COPY bypasses.
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                for obj in objs:
                    setattr(obj, field.attname, now)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(meta.db_table),
            sql.SQL(", ").join(sql.Identifier(field.column) for field in fields),
        )
        columns = [(field.attname, isinstance(field, models.JSONField)) for field in fields]
        # COPY goes past Django's cursor wrapper; keep its error translation (IntegrityError).
        with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for obj in objs:
                copy.write_row([_cell(getattr(obj, name), is_json) for name, is_json in columns])


def _cell(value: Any, is_json: bool) -> Any:
    return json.dumps(value) if is_json and value is not None else value
