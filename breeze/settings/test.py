"""Test settings: the same real PostgreSQL and Redis, kept apart from a running dev stack."""

from breeze.settings.base import *  # noqa: F403
from breeze.settings.env import env_bool, env_str, local_secret

DEBUG = False
SECRET_KEY = local_secret("SECRET_KEY", LOCAL_STATE_DIR / "secret_key")
BREEZE_ENCRYPTION_KEY = local_secret("BREEZE_ENCRYPTION_KEY", LOCAL_STATE_DIR / "encryption_key")
# A separate Redis database so tests never consume a running dev stack's queues.
REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# With eager Celery a push would dispatch and dial at once; dispatch tests turn it on.
BREEZE_DISPATCH_KICK = False
# A simulated dial a test did not point at its own server is refused at once (port 9),
# never placed into a dev stack on :8000. A test that starts Daphne for a provider sandbox
# to call back gives the processes Daphne's address.
PUBLIC_BASE_URL = env_str("TEST_PUBLIC_BASE_URL", "http://127.0.0.1:9")
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Processes a test starts (Daphne, the voice pool) share one layer only through Redis.
if env_bool("TEST_REDIS_CHANNEL_LAYER", default=False):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "test-asgi"},
        }
    }
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None  # nothing is collected outside production
# Fixed-delay speech providers (calls/voice/speech/fixed_delay.py) for benchmarks and tests.
BREEZE_FIXED_DELAY_SPEECH = True
# The suite shares one client address and outlives a rate window; throttle tests set their own.
API_RATE_LIMIT = "100000/min"
API_ANON_RATE_LIMIT = "100000/min"
