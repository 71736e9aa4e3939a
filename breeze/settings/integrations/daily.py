"""Daily (WebRTC rooms for web and mobile calls): its API root and the warm room pool."""

from __future__ import annotations

from breeze.settings.env import env_int, env_str
from breeze.settings.integrations.sandbox import sandbox_root

# Daily's REST API root; tests and demos point it at a local server.
DAILY_API_BASE_URL = env_str(
    "DAILY_API_BASE_URL", sandbox_root("/daily/v1", "https://api.daily.co/v1")
)
# Idle rooms kept ready per merchant with a Daily credential (its `room_pool_size` overrides).
DAILY_ROOM_POOL_SIZE = env_int("DAILY_ROOM_POOL_SIZE", default=5)
# How long a pooled room lives unused before Daily expires it and the pool replaces it.
DAILY_ROOM_IDLE_SECONDS = env_int("DAILY_ROOM_IDLE_SECONDS", default=24 * 3600)
# A session's room and tokens expire this long after assignment (Daily ejects everyone then).
DAILY_SESSION_SECONDS = env_int("DAILY_SESSION_SECONDS", default=3600)
# A bot leaves, and the call ends as no answer, when no client joined within this time.
DAILY_CLIENT_JOIN_SECONDS = env_int("DAILY_CLIENT_JOIN_SECONDS", default=120)
