from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import LazySettings


@pytest.fixture
async def redis_layer(settings: LazySettings) -> AsyncIterator[BaseChannelLayer]:
    """The real Redis channel layer, on the test Redis database, under a prefix of its own."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"test-{uuid.uuid4().hex[:8]}"},
        }
    }
    layer = get_channel_layer()
    assert layer is not None
    yield layer
    await layer.flush()
    await layer.close_pools()  # type: ignore[attr-defined]
