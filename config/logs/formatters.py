"""Log formatters: one JSON object per line in production, a readable line locally.

Both print the correlation ids that `ContextFilter` copied onto the record.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from config.logs.context import FIELDS, current

# Where the request id middleware leaves the id on the request, for lines logged after it.
REQUEST_ID_META = "breeze.request_id"


class ContextFilter(logging.Filter):
    """Copies the current correlation ids onto the record, in the thread that logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "log_context"):
            ids = dict(current())
            # Django logs a request's 4xx/5xx after the middleware returned, with the request.
            request = getattr(record, "request", None)
            meta = getattr(request, "META", None)
            if "request_id" not in ids and isinstance(meta, dict) and REQUEST_ID_META in meta:
                ids["request_id"] = str(meta[REQUEST_ID_META])
            record.log_context = ids
        return True


def _ids(record: logging.LogRecord) -> dict[str, str]:
    context: dict[str, str] = getattr(record, "log_context", {})
    return {name: context[name] for name in FIELDS if name in context}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_ids(record),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class ReadableFormatter(logging.Formatter):
    """`time LEVEL logger [call_id=7 merchant_id=2] message`, then any traceback."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = _ids(record)
        record.ids = " [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]" if ids else ""
        return super().format(record)
