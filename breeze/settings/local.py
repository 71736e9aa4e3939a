from breeze.settings.base import *  # noqa: F403
from breeze.settings.env import env_bool, local_secret

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = local_secret("SECRET_KEY", LOCAL_STATE_DIR / "secret_key")
BREEZE_ENCRYPTION_KEY = local_secret("BREEZE_ENCRYPTION_KEY", LOCAL_STATE_DIR / "encryption_key")
BREEZE_ADMIN_PASSWORD = local_secret(
    "BREEZE_ADMIN_PASSWORD",
    LOCAL_STATE_DIR / "admin_password",
    nbytes=12,
)
# Serve static files straight from the apps, so a fresh clone needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None  # nothing is collected outside production
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
