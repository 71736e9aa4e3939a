"""Outgoing webhooks: timeouts, the retry schedule, the sweeper and the circuit breaker."""

from __future__ import annotations

from breeze.settings.env import env_int, env_list

WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_int("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3)
WEBHOOK_READ_TIMEOUT_SECONDS = env_int("WEBHOOK_READ_TIMEOUT_SECONDS", default=10)
# Seconds to wait before each retry (jittered ±20 %): 11 attempts spanning about 24 hours.
WEBHOOK_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in env_list(
        "WEBHOOK_RETRY_SCHEDULE",
        default=["5", "30", "120", "600", "1800", "3600", "7200", "14400", "28800", "28800"],
    )
]
WEBHOOK_RETRY_JITTER_PERCENT = env_int("WEBHOOK_RETRY_JITTER_PERCENT", default=20)
# A claim older than this is a worker lost mid-delivery; it must exceed both timeouts.
WEBHOOK_DELIVERY_LEASE_SECONDS = env_int("WEBHOOK_DELIVERY_LEASE_SECONDS", default=60)
# The sweeper leaves recently due deliveries to the tasks already queued for them.
WEBHOOK_SWEEP_GRACE_SECONDS = env_int("WEBHOOK_SWEEP_GRACE_SECONDS", default=15)
WEBHOOK_SWEEP_BATCH = env_int("WEBHOOK_SWEEP_BATCH", default=2000)
WEBHOOK_CIRCUIT_FAILURE_THRESHOLD = env_int("WEBHOOK_CIRCUIT_FAILURE_THRESHOLD", default=10)
WEBHOOK_CIRCUIT_COOLDOWN_SECONDS = env_int("WEBHOOK_CIRCUIT_COOLDOWN_SECONDS", default=300)
WEBHOOK_SECRET_OVERLAP_SECONDS = env_int("WEBHOOK_SECRET_OVERLAP_SECONDS", default=86400)
