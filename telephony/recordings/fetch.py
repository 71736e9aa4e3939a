"""Downloading a provider's recording into a temporary file, with the vendor's answers sorted.

404 counts as transient: a vendor may announce a recording a moment before it can serve it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO

import requests
from django.conf import settings

CHUNK_BYTES = 64 * 1024


class RecordingFetchError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class FetchedRecording:
    content: IO[bytes]
    content_type: str


def _retryable(status: int) -> bool:
    return status in (404, 408, 429) or status >= 500


def http_get(url: str, *, auth: tuple[str, str]) -> requests.Response:
    """GET with the provider's credentials; raises RecordingFetchError unless it answered 2xx."""
    try:
        response = requests.get(
            url, auth=auth, stream=True, timeout=settings.TELEPHONY_HTTP_TIMEOUT
        )
    except requests.RequestException as error:
        raise RecordingFetchError(f"GET {url} failed: {error}", retryable=True) from error
    if response.status_code >= 300:
        response.close()
        raise RecordingFetchError(
            f"GET {url} answered {response.status_code}",
            retryable=_retryable(response.status_code),
        )
    return response


def http_download(url: str, *, auth: tuple[str, str], content_type: str) -> FetchedRecording:
    """The file at `url` in a temporary file (rewound); the caller closes it."""
    with http_get(url, auth=auth) as response:
        content = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the caller)
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                content.write(chunk)
        except requests.RequestException as error:
            content.close()
            raise RecordingFetchError(f"GET {url} broke off: {error}", retryable=True) from error
        content.seek(0)
        # The format Breeze asked for (vendors label WAV as audio/x-wav, audio/wave, …).
        return FetchedRecording(content=content, content_type=content_type)
