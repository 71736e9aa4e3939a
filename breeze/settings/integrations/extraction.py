"""Post-call extraction: the OpenAI-compatible endpoint and how long `call.completed` waits."""

from __future__ import annotations

from breeze.settings.env import env_int, env_str

# Where `openai` LLM requests go unless the merchant's credential sets its own `base_url`
# (an OpenAI-compatible gateway, or a local server in tests).
BREEZE_OPENAI_BASE_URL = env_str("BREEZE_OPENAI_BASE_URL", "https://api.openai.com/v1")
BREEZE_AZURE_OPENAI_API_VERSION = env_str("BREEZE_AZURE_OPENAI_API_VERSION", "2024-10-21")
# One extraction request; past it the rules engine fills the fields instead.
EXTRACTION_LLM_TIMEOUT_SECONDS = env_int("EXTRACTION_LLM_TIMEOUT_SECONDS", default=20)
# After a provider's hang-up callback ends a call, its worker may still be storing the last
# turns: extraction waits this long before reading the transcript.
EXTRACTION_TRANSCRIPT_GRACE_SECONDS = env_int("EXTRACTION_TRANSCRIPT_GRACE_SECONDS", default=5)
# `call.completed` waits for extraction at most this long after the call ends.
EXTRACTION_DEADLINE_SECONDS = env_int("EXTRACTION_DEADLINE_SECONDS", default=120)
# The sweeper re-enqueues extractions pending longer than this (their task was lost).
EXTRACTION_SWEEP_GRACE_SECONDS = env_int("EXTRACTION_SWEEP_GRACE_SECONDS", default=30)
