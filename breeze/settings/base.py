"""Every setting lives here, driven by the environment; local/test/production only override."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import django_stubs_ext

from breeze.settings.env import env_bool, env_int, env_list, env_str

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Secrets generated for local use live here; the folder is git-ignored.
LOCAL_STATE_DIR = BASE_DIR / ".local"

DEBUG = env_bool("DEBUG", default=False)
# Local and test settings fill these from git-ignored files when unset; production requires them.
SECRET_KEY = env_str("SECRET_KEY", "")
# Comma-separated: the first key encrypts, every key decrypts, so keys rotate without downtime.
BREEZE_ENCRYPTION_KEY = env_str("BREEZE_ENCRYPTION_KEY", "")
# The password `manage.py setup_demo` gives the demo logins (generated locally when unset).
BREEZE_ADMIN_PASSWORD = env_str("BREEZE_ADMIN_PASSWORD", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
# The address providers and browsers use to reach this deployment (callbacks, media URLs).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    # Admin modules load with the URLconf (breeze/urls.py), not at setup: a voice worker or
    # a Celery worker serves no admin and would carry every admin module's imports.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "breeze",
    "config",
    "templates_app",
    "calls",
    "leads",
    "telephony",
]

MIDDLEWARE = [
    # First, so every later middleware's log lines carry the request id.
    "config.logs.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Daphne serves no static files itself; this serves the admin's, in every environment.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "breeze.urls"
WSGI_APPLICATION = "breeze.wsgi.application"
ASGI_APPLICATION = "breeze.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "breeze" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://breeze:breeze@127.0.0.1:5432/breeze"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT: Path | None = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

from breeze.settings.integrations.api import *  # noqa: E402, F403
from breeze.settings.integrations.celery import *  # noqa: E402, F403
from breeze.settings.integrations.channels import *  # noqa: E402, F403
from breeze.settings.integrations.daily import *  # noqa: E402, F403
from breeze.settings.integrations.extraction import *  # noqa: E402, F403
from breeze.settings.integrations.leads import *  # noqa: E402, F403
from breeze.settings.integrations.observability import *  # noqa: E402, F403
from breeze.settings.integrations.recordings import *  # noqa: E402, F403
from breeze.settings.integrations.sandbox import *  # noqa: E402, F403
from breeze.settings.integrations.telephony import *  # noqa: E402, F403
from breeze.settings.integrations.voice import *  # noqa: E402, F403
from breeze.settings.integrations.webhooks import *  # noqa: E402, F403

# Recordings have a storage of their own, so they can live in a bucket while CSV imports do not.
STORAGES["recordings"] = BREEZE_RECORDINGS_STORAGE
