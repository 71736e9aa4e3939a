from __future__ import annotations

from typing import Any

from breeze.settings.env import env_str

CHANNEL_LAYERS: dict[str, Any] = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [env_str("REDIS_URL", "redis://127.0.0.1:6379/0")]},
    }
}
