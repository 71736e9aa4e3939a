"""A JSON parser that enforces the request-body limit DRF's own parser never checks."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser


class LimitedJSONParser(JSONParser):
    """Refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 413, reading at most that much.

    Django checks the limit only when `request.body` is read; DRF parses from the raw stream,
    so without this a client could make the server hold an arbitrarily large JSON document.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            # The same error Django raises for form bodies; the API's handler answers 413.
            raise RequestDataTooBig(f"The request body is larger than {limit} bytes.")
        return super().parse(io.BytesIO(body), media_type, parser_context)
