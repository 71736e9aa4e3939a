"""The merchant API: authentication, errors, parsing limits, pagination, rate limits, schema."""

from __future__ import annotations

from datetime import timedelta

from breeze.settings.env import env_int, env_str

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.auth.authentication.ApiKeyAuthentication",
        "config.auth.authentication.JWTBearerAuthentication",
        # The admin's session, for the browsable API and the docs page.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.parsers.LimitedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.CreatedCursorPagination",
    "EXCEPTION_HANDLER": "config.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.CredentialRateThrottle"],
    # Anonymous rate limits count per client address: REMOTE_ADDR unless proxies in front are
    # declared, so a client cannot pick its own X-Forwarded-For.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", default=0),
}

# Requests per API key or person, and per client address before signing in (the token
# endpoint), as "<count>/<s|min|hour|day>".
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "1200/min")
API_ANON_RATE_LIMIT = env_str("API_ANON_RATE_LIMIT", "60/min")

# A 10,000-lead bulk push with modest payloads is about 5 MB of JSON; leave room for more.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", default=20 * 1024 * 1024)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env_int("JWT_REFRESH_HOURS", default=24)),
    # Each refresh hands out a new refresh token and blacklists the one used.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}
# Signed with SECRET_KEY unless a dedicated key is configured.
if _jwt_signing_key := env_str("JWT_SIGNING_KEY", ""):
    SIMPLE_JWT["SIGNING_KEY"] = _jwt_signing_key

SPECTACULAR_SETTINGS = {
    "TITLE": "Breeze API",
    "DESCRIPTION": (
        "Push leads, read templates and calls. Authenticate with `Authorization: Bearer` and "
        "a merchant API key (`brz_…`) or a person's JWT from `POST /api/v1/auth/token`. "
        'Errors: `{"error": {"type", "message", "fields"?}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed drf-spectacular-sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models call their choices `Status`; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "CallStatusEnum": "calls.models.Call.Status",
        "CampaignStatusEnum": "leads.models.Campaign.Status",
        "LeadStatusEnum": "leads.models.Lead.Status",
        "LeadImportStatusEnum": "leads.models.LeadImport.Status",
        "TemplateVersionStatusEnum": "templates_app.models.TemplateVersion.Status",
        "WebhookDeliveryStatusEnum": "calls.webhooks.models.WebhookDelivery.Status",
        "WebhookEventTypeEnum": "calls.webhooks.events.EventType",
    },
}
