"""Gives every HTTP request a request id: the caller's `X-Request-ID` if sane, else a new one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from config.logs import context
from config.logs.formatters import REQUEST_ID_META

HEADER = "X-Request-ID"
# A caller's id is kept only if it cannot forge log structure or flood a line.
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_for(request: HttpRequest) -> str:
    incoming = request.headers.get(HEADER, "")
    request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex
    request.META[REQUEST_ID_META] = request_id
    return request_id


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        request_id = request_id_for(request)
        token = context.replace({"request_id": request_id})
        try:
            response: HttpResponseBase = self.get_response(request)
        finally:
            context.reset(token)
        response[HEADER] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_for(request)
        token = context.replace({"request_id": request_id})
        try:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            response = await get_response(request)
        finally:
            context.reset(token)
        response[HEADER] = request_id
        return response
