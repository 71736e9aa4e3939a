"""Call recordings: where they are stored, how long signed links last, how long they are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from breeze.settings.env import env_int, env_str


def recordings_storage(
    *,
    bucket: str,
    root: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    prefix: str = "recordings",
) -> dict[str, Any]:
    """The `STORAGES["recordings"]` entry: an S3-compatible bucket when one is named, else `root`.

    Files are private either way; they are served through Breeze (signed links, the admin),
    never by a public bucket URL.
    """
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        }
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": prefix,
        "default_acl": "private",
        "file_overwrite": False,
        "querystring_auth": True,
    }
    # Empty values fall back to boto3's own chain (AWS_* environment, instance roles).
    optional = {
        "endpoint_url": endpoint_url,
        "region_name": region,
        "access_key": access_key,
        "secret_key": secret_key,
    }
    options.update({key: value for key, value in optional.items() if value})
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


BREEZE_RECORDINGS_STORAGE = recordings_storage(
    bucket=env_str("BREEZE_RECORDINGS_S3_BUCKET", ""),
    root=env_str(
        "BREEZE_RECORDINGS_ROOT",
        str(Path(__file__).resolve().parents[3] / ".local" / "media" / "recordings"),
    ),
    endpoint_url=env_str("BREEZE_RECORDINGS_S3_ENDPOINT_URL", ""),
    region=env_str("BREEZE_RECORDINGS_S3_REGION", ""),
    access_key=env_str("BREEZE_RECORDINGS_S3_ACCESS_KEY_ID", ""),
    secret_key=env_str("BREEZE_RECORDINGS_S3_SECRET_ACCESS_KEY", ""),
    prefix=env_str("BREEZE_RECORDINGS_S3_PREFIX", "recordings"),
)
# Days a recording is kept when its merchant has no retention of its own.
BREEZE_RECORDING_RETENTION_DAYS = env_int("BREEZE_RECORDING_RETENTION_DAYS", default=90)
# How long a link from GET /api/v1/calls/{id}/recording works, and one in call.completed
# (longer: a webhook may be retried for a day before the receiver fetches the file).
BREEZE_RECORDING_URL_TTL_SECONDS = env_int("BREEZE_RECORDING_URL_TTL_SECONDS", default=3600)
BREEZE_RECORDING_WEBHOOK_URL_TTL_SECONDS = env_int(
    "BREEZE_RECORDING_WEBHOOK_URL_TTL_SECONDS", default=7 * 86400
)
# Provider recordings: download attempts before the row is marked failed, and the first
# retry delay (doubled each time). The vendor may answer 404 just after its callback.
BREEZE_RECORDING_DOWNLOAD_ATTEMPTS = env_int("BREEZE_RECORDING_DOWNLOAD_ATTEMPTS", default=6)
BREEZE_RECORDING_DOWNLOAD_RETRY_SECONDS = env_int(
    "BREEZE_RECORDING_DOWNLOAD_RETRY_SECONDS", default=30
)
