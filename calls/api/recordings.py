"""`GET /api/v1/calls/{id}/recording`: a fresh signed link to the call's recording."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from calls.recordings.links import recording_link
from calls.recordings.models import Recording
from calls.recordings.selectors import recording_for_call
from config.api.errors import Conflict
from config.api.permissions import ResourceView
from config.types import Resource


class RecordingLinkSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(help_text="Works without authentication until `expires_at`.")
    expires_at = serializers.DateTimeField()
    content_type = serializers.CharField()
    duration_seconds = serializers.FloatField(allow_null=True)
    size_bytes = serializers.IntegerField()


class CallRecordingApi(ResourceView):
    resource = Resource.CALL

    @extend_schema(responses=RecordingLinkSerializer)
    def get(self, request: Request, call_id: int) -> Response:
        """A signed, expiring link to the call's recording (404 without one, 409 while pending)."""
        recording = recording_for_call(user=request.user, call_id=call_id)
        if recording is None:
            raise NotFound("This call has no recording.")
        if recording.status == Recording.Status.PENDING:
            raise Conflict("The recording is still being fetched from the provider; try later.")
        if recording.status == Recording.Status.FAILED:
            raise NotFound(f"The recording could not be fetched: {recording.last_error}")
        link = recording_link(
            recording_id=recording.pk, ttl_seconds=settings.BREEZE_RECORDING_URL_TTL_SECONDS
        )
        data = {
            "url": link.url,
            "expires_at": link.expires_at,
            "content_type": recording.content_type,
            "duration_seconds": recording.duration_seconds,
            "size_bytes": recording.size_bytes,
        }
        return Response(RecordingLinkSerializer(data).data)
