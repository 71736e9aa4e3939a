"""Environment defaults for every call: the first layer of the configuration hierarchy."""

from __future__ import annotations

from typing import Any

from breeze.settings.env import env_int, env_str

# Offline by default: a machine with no vendor keys still holds a complete call.
BREEZE_CALL_DEFAULTS: dict[str, Any] = {
    "stt": {"provider": env_str("BREEZE_STT_PROVIDER", "pocketsphinx"), "language": "en-US"},
    "tts": {"provider": env_str("BREEZE_TTS_PROVIDER", "piper"), "voice": "en_US-joe-medium"},
    "llm": {
        "provider": env_str("BREEZE_LLM_PROVIDER", "rules"),
        "model": env_str("BREEZE_LLM_MODEL", "gpt-4o"),
        "temperature": 0.3,
    },
    # Sensitive enough for a one-word "no" on 8 kHz phone audio (0.6 volume missed it).
    "vad": {"confidence": 0.6, "start_secs": 0.15, "stop_secs": 0.8, "min_volume": 0.4},
    "interruption": {"mode": "enabled", "min_words": 1},
    "input_collection": {"enabled": False, "user_speech_timeout": 0.0},
    "user_idle": {
        "enabled": True,
        "timeout": 8.0,
        "message": "Are you still there?",
        "retries": 2,
    },
}

# How long a call's media token stays valid after the call is placed (ringing included).
BREEZE_MEDIA_TOKEN_MAX_AGE = 300

# A call's real LLM request that sends nothing for this long has failed (connect, each read
# of the stream): no retry, the rules engine answers the turn and the rest of the call.
BREEZE_LLM_TIMEOUT_SECONDS = env_int("BREEZE_LLM_TIMEOUT_SECONDS", default=5)

# The playground (templates_app) answers with the LLM a call would use; this names the one
# builder of it, which lives with the voice engine that templates_app may not import.
BREEZE_LLM_BUILDER = "calls.voice.speech.registry.build_llm"
# A playground replay with a real LLM makes a request per bot reply; past this it falls back.
PLAYGROUND_LLM_TIMEOUT_SECONDS = env_int("PLAYGROUND_LLM_TIMEOUT_SECONDS", default=30)
