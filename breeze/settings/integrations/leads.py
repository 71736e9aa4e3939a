"""Leads: push limits and where uploaded CSV imports are kept."""

from __future__ import annotations

from pathlib import Path

from breeze.settings.env import env_bool, env_int, env_str

BREEZE_LEADS_BULK_MAX = env_int("BREEZE_LEADS_BULK_MAX", default=10_000)
BREEZE_LEADS_IMPORT_MAX_BYTES = env_int("BREEZE_LEADS_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# Rows read per database round trip while importing; progress is saved after each chunk.
BREEZE_LEADS_IMPORT_CHUNK_ROWS = env_int("BREEZE_LEADS_IMPORT_CHUNK_ROWS", default=2_000)
# Uploaded files (CSV imports) live here, outside the code; git-ignored by default.
MEDIA_ROOT = Path(
    env_str("MEDIA_ROOT", str(Path(__file__).resolve().parents[3] / ".local" / "media"))
)
# Pushes and dispatch-now kick the dispatcher at once (test settings turn it off: eager
# Celery would dial every lead a test pushes). Leads claimed per transaction, and the
# provider for templates that name none.
BREEZE_DISPATCH_KICK = env_bool("BREEZE_DISPATCH_KICK", default=True)
BREEZE_DISPATCH_BATCH = env_int("BREEZE_DISPATCH_BATCH", default=500)
BREEZE_DEFAULT_TELEPHONY_PROVIDER = env_str("BREEZE_DEFAULT_TELEPHONY_PROVIDER", "simulator")
# The scripted customer who answers calls placed through the simulator provider.
BREEZE_SIMULATOR_PERSONA = env_str("BREEZE_SIMULATOR_PERSONA", "cod-confirm")
# Call limiter: concurrent calls per merchant (templates add their own `concurrency_cap`),
# how long a slot lease lasts without renewal, and how soon a lead refused a slot retries.
BREEZE_MERCHANT_CONCURRENCY = env_int("BREEZE_MERCHANT_CONCURRENCY", default=50)
BREEZE_LIMITER_LEASE_SECONDS = env_int("BREEZE_LIMITER_LEASE_SECONDS", default=1800)
BREEZE_LIMITER_RETRY_SECONDS = env_int("BREEZE_LIMITER_RETRY_SECONDS", default=5)
# A lead's call still queued or dialing after this long is repaired by the reconciler.
BREEZE_DIAL_TIMEOUT_SECONDS = env_int("BREEZE_DIAL_TIMEOUT_SECONDS", default=120)
# Calls to one number (per merchant) in any hour; more wait for the hour to pass.
BREEZE_CALLS_PER_NUMBER_PER_HOUR = env_int("BREEZE_CALLS_PER_NUMBER_PER_HOUR", default=3)
# Campaigns: beat ticks every running campaign this often (a tick releases at most one
# tick's worth of its calls-per-minute, so this is also the longest burst).
BREEZE_CAMPAIGN_TICK_SECONDS = env_int("BREEZE_CAMPAIGN_TICK_SECONDS", default=2)
