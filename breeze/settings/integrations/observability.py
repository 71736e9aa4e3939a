"""Logs, metrics and Langfuse (docs/observability.md); tracing reads the OTEL_* env itself."""

from __future__ import annotations

from breeze.settings.env import env_int, env_str

# "json" (one object per line, for collectors) or "readable"; production defaults to json.
LOG_FORMAT = env_str("LOG_FORMAT", "readable")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")


def logging_config(*, log_format: str, level: str) -> dict[str, object]:
    formatter = {"json": "config.logs.formatters.JsonFormatter"}.get(
        log_format, "config.logs.formatters.ReadableFormatter"
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "config.logs.formatters.ContextFilter"},
            "mask": {"()": "config.logs.masking.MaskingFilter"},
        },
        "formatters": {"main": {"()": formatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                # Ids first, then masking: every line of every logger passes both.
                "filters": ["context", "mask"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # httpx logs every request at INFO: one line per webhook attempt, which attempts record.
        "loggers": {"httpx": {"level": "WARNING"}},
    }


LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
# Celery would otherwise replace the root handlers, and with them the masking filter.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Metrics are computed from PostgreSQL and Redis at scrape time and reused this long.
METRICS_CACHE_SECONDS = env_int("METRICS_CACHE_SECONDS", default=5)

# Langfuse (docs/observability.md): each call a trace with its LLM turns, evaluator scores.
# A merchant's own `langfuse` credential (public_key, secret_key, optional host) wins over
# these platform-wide keys; with neither, nothing is sent.
LANGFUSE_PUBLIC_KEY = env_str("LANGFUSE_PUBLIC_KEY", "")
LANGFUSE_SECRET_KEY = env_str("LANGFUSE_SECRET_KEY", "")
LANGFUSE_HOST = env_str("LANGFUSE_HOST", env_str("LANGFUSE_BASE_URL", "https://cloud.langfuse.com"))
