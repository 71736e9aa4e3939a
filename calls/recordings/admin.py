"""Admin for recordings: the list, a player on each call's page, and per-merchant retention.

The file is streamed by an admin view that finds the recording through the operator's scoped
queryset, so a recording of another merchant is simply not found.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from calls.recordings.models import Recording, RecordingRetention
from calls.recordings.services import recording_retention_set
from calls.recordings.views import recording_file_response
from config.admin_scoping import MerchantScopedAdmin, adopt_saved
from config.models import Merchant
from config.selectors import merchant_ids_allowing
from config.types import Action, Resource

FILE_URL_NAME = "calls_recording_file"


def recording_player(recording: Recording | None) -> str:
    """An audio player and a download link for a call's page, or why there is none."""
    if recording is None:
        return "—"
    if recording.status != Recording.Status.STORED:
        detail = f": {recording.last_error}" if recording.last_error else ""
        return f"{recording.get_status_display()}{detail}"
    url = reverse(f"admin:{FILE_URL_NAME}", args=[recording.pk])
    return format_html(
        '<audio controls preload="none" src="{}"></audio><br><a href="{}">Download</a>'
        " · {} · {} s, kept until {}",
        url,
        url,
        recording.get_source_display(),
        f"{recording.duration_seconds:.1f}" if recording.duration_seconds is not None else "?",
        recording.expires_at.date().isoformat(),
    )


@admin.register(Recording)
class RecordingAdmin(MerchantScopedAdmin[Recording]):
    """Recordings are made by calls and removed by retention, never edited by hand."""

    resource = Resource.CALL
    list_display = ["call", "merchant", "source", "status", "duration_seconds", "expires_at"]
    list_filter = ["status", "source", ("merchant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["call", "merchant"]
    search_fields = ["=call__id", "provider_recording_id"]
    fields = (
        "call",
        "merchant",
        "source",
        "status",
        "player",
        "content_type",
        "duration_seconds",
        "size_bytes",
        "provider_recording_id",
        "download_attempts",
        "last_error",
        "stored_at",
        "expires_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Recording | None = None) -> bool:
        return False

    @admin.display(description="recording")
    def player(self, recording: Recording) -> str:
        return recording_player(recording)

    def get_urls(self) -> list[URLPattern]:
        file_view = path(
            "<int:object_id>/file/",
            self.admin_site.admin_view(self.file_view),
            name=FILE_URL_NAME,
        )
        return [file_view, *super().get_urls()]

    def file_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        recording = (
            self.get_queryset(request).filter(pk=object_id, status=Recording.Status.STORED).first()
        )
        if recording is None:
            raise Http404("No such recording.")
        if not self.has_view_permission(request, recording):
            raise PermissionDenied
        return recording_file_response(recording)


@admin.register(RecordingRetention)
class RecordingRetentionAdmin(MerchantScopedAdmin[RecordingRetention]):
    resource = Resource.MERCHANT
    list_display = ["merchant", "days"]
    fields = ["merchant", "days"]

    # Retention is a merchant setting: whoever may change the merchant may set it.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, Action.CHANGE, None)

    def writable_merchants(self, request: HttpRequest) -> QuerySet[Merchant]:
        merchant_ids = merchant_ids_allowing(
            user=request.user, resource=self.resource, action=Action.CHANGE
        )
        merchants = Merchant.objects.all()
        return merchants if merchant_ids is None else merchants.filter(pk__in=merchant_ids)

    def save_model(
        self,
        request: HttpRequest,
        obj: RecordingRetention,
        form: ModelForm[RecordingRetention],
        change: bool,
    ) -> None:
        saved = recording_retention_set(merchant_id=obj.merchant_id, days=obj.days)
        adopt_saved(obj, saved)
