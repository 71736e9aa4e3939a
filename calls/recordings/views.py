"""The file behind a signed link; the admin's player uses the same response."""

from __future__ import annotations

import logging

from django.http import FileResponse, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from calls.recordings.links import LinkExpiredError, LinkTamperedError, recording_link_open
from calls.recordings.models import Recording
from calls.recordings.selectors import recording_stored
from calls.recordings.storage import EXTENSIONS, recordings_storage

logger = logging.getLogger(__name__)


def _error(status: int, kind: str, message: str) -> JsonResponse:
    # The API's error shape (config/api/errors.py), though this URL is not under /api/.
    return JsonResponse({"error": {"type": kind, "message": message}}, status=status)


def recording_file_response(recording: Recording) -> HttpResponseBase:
    """Stream the recording's file; 404 when the file is gone from storage."""
    try:
        handle = recordings_storage().open(recording.storage_name, "rb")
    except OSError:
        logger.warning("recording %s: file %r is missing", recording.pk, recording.storage_name)
        return _error(404, "not_found", "The recording's file is missing.")
    extension = EXTENSIONS.get(recording.content_type, "bin")
    response = FileResponse(
        handle,
        content_type=recording.content_type,
        filename=f"call-{recording.call_id}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def recording_download(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        recording_id = recording_link_open(token=token)
    except LinkTamperedError:
        return _error(403, "permission_denied", "This recording link is not valid.")
    except LinkExpiredError:
        return _error(410, "link_expired", "This recording link has expired; ask for a new one.")
    recording = recording_stored(recording_id=recording_id)
    if recording is None:
        return _error(404, "not_found", "The recording no longer exists.")
    return recording_file_response(recording)
