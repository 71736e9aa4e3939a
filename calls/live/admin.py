"""The admin's live-call pages, mixed into CallAdmin: the list of calls in progress, one call."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from calls.live.selectors import live_call_get, live_call_list, live_call_may_end, live_call_row
from calls.models import Call
from config.admin_scoping import MerchantScopedAdmin

LIST_REFRESH_SECONDS = 3


class LiveCallPagesAdmin(MerchantScopedAdmin[Call]):
    def get_urls(self) -> list[URLPattern]:
        pages = [
            path("live/", self.admin_site.admin_view(self.live_list_view), name="calls_call_live"),
            path(
                "live/rows/",
                self.admin_site.admin_view(self.live_rows_view),
                name="calls_call_live_rows",
            ),
            path(
                "<int:call_id>/live/",
                self.admin_site.admin_view(self.live_watch_view),
                name="calls_call_watch",
            ),
        ]
        return pages + super().get_urls()

    def _rows(self, request: HttpRequest) -> list[dict[str, object]]:
        return [
            {**live_call_row(call), "watch_url": reverse("admin:calls_call_watch", args=[call.pk])}
            for call in live_call_list(user=request.user)
        ]

    def live_list_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Live calls",
            "opts": self.model._meta,
            "calls": self._rows(request),
            "rows_url": reverse("admin:calls_call_live_rows"),
            "refresh_ms": LIST_REFRESH_SECONDS * 1000,
        }
        return TemplateResponse(request, "admin/calls/live/list.html", context)

    def live_rows_view(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse({"calls": self._rows(request)})

    def live_watch_view(self, request: HttpRequest, call_id: int) -> TemplateResponse:
        call = live_call_get(user=request.user, call_id=call_id)
        if call is None:
            raise Http404("No such call.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Call {call.pk}",
            "opts": self.model._meta,
            "call": call,
            "row": live_call_row(call),
            "may_end": live_call_may_end(user=request.user, call=call),
            "socket_path": f"/ws/live/calls/{call.pk}/",
        }
        return TemplateResponse(request, "admin/calls/live/watch.html", context)
