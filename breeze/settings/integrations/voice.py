"""Environment defaults for every call: the first layer of the configuration hierarchy."""

from __future__ import annotations

from typing import Any

from breeze.settings.env import env_str

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
