"""Production: secrets must come from the environment; nothing is generated on disk."""

from django.core.exceptions import ImproperlyConfigured

from breeze.settings.base import *  # noqa: F403
from breeze.settings.env import env_bool, env_int, env_required, env_str
from breeze.settings.integrations.observability import LOG_LEVEL, logging_config
from breeze.settings.integrations.sandbox import BREEZE_PROVIDER_SANDBOX

DEBUG = False
if BREEZE_PROVIDER_SANDBOX:
    # The sandbox places no real call: a production deployment with it would dial nobody.
    raise ImproperlyConfigured("BREEZE_PROVIDER_SANDBOX is for development, not production")
SECRET_KEY = env_required("SECRET_KEY")
BREEZE_ENCRYPTION_KEY = env_required("BREEZE_ENCRYPTION_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0)
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
