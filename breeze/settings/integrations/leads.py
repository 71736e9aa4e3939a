"""Leads: push limits and where uploaded CSV imports are kept."""

from __future__ import annotations

from pathlib import Path

from breeze.settings.env import env_int, env_str

BREEZE_LEADS_BULK_MAX = env_int("BREEZE_LEADS_BULK_MAX", default=10_000)
BREEZE_LEADS_IMPORT_MAX_BYTES = env_int("BREEZE_LEADS_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# Rows read per database round trip while importing; progress is saved after each chunk.
BREEZE_LEADS_IMPORT_CHUNK_ROWS = env_int("BREEZE_LEADS_IMPORT_CHUNK_ROWS", default=2_000)
# Uploaded files (CSV imports) live here, outside the code; git-ignored by default.
MEDIA_ROOT = Path(
    env_str("MEDIA_ROOT", str(Path(__file__).resolve().parents[3] / ".local" / "media"))
)
