from __future__ import annotations

from typing import Any

import pytest
import redis
from django.conf import LazySettings, settings

from config.call_config import resolve_call_config
from config.exceptions import ApplicationError
from config.flags import CACHE_KEY, flag_overrides
from config.services import flag_delete, flag_set
from tests.conftest import Tenants, free_port

TEMPLATE_CONFIG: dict[str, Any] = {
    "llm": {"provider": "openai", "model": "gpt-4o-mini"},
    "vad": {"confidence": 0.6, "stop_secs": 0.5},
    "interruption": {"mode": "enabled", "min_words": 2},
    "greeting": "not a call setting",
}


@pytest.fixture(autouse=True)
def _clean_flag_cache() -> None:
    redis.Redis.from_url(settings.REDIS_URL).delete(CACHE_KEY)


def test_template_overrides_environment_defaults(db: None) -> None:
    config = resolve_call_config(
        merchant_id=None, template_config=TEMPLATE_CONFIG, execution_mode="TELEPHONY"
    )

    assert config.call["llm"] == {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.3}
    assert config.call["vad"] == {
        "confidence": 0.6,
        "start_secs": 0.15,
        "stop_secs": 0.5,
        "min_volume": 0.4,
    }
    assert config.call["stt"] == {"provider": "pocketsphinx", "language": "en-US"}
    assert "greeting" not in config.call


@pytest.mark.django_db(transaction=True)
def test_flags_sit_between_environment_and_template(tenants: Tenants) -> None:
    flag_set(key="tts.voice", value="en_US-amy-low")
    flag_set(key="llm.provider", value="rules", merchant=tenants.acme)
    flag_set(key="llm.temperature", value=0.9)

    acme = resolve_call_config(
        merchant_id=tenants.acme.pk, template_config={}, execution_mode="TELEPHONY"
    )
    globex = resolve_call_config(
        merchant_id=tenants.globex.pk, template_config={}, execution_mode="TELEPHONY"
    )
    templated = resolve_call_config(
        merchant_id=tenants.acme.pk, template_config=TEMPLATE_CONFIG, execution_mode="TELEPHONY"
    )

    assert acme.call["tts"]["voice"] == "en_US-amy-low"
    assert (acme.call["llm"]["provider"], globex.call["llm"]["provider"]) == ("rules", "rules")
    assert acme.call["llm"]["temperature"] == 0.9
    assert templated.call["llm"]["provider"] == "openai"


@pytest.mark.django_db(transaction=True)
def test_merchant_flag_beats_platform_flag_and_changes_apply_to_the_next_call(
    tenants: Tenants,
) -> None:
    flag_set(key="llm.model", value="platform-model")
    merchant_flag = flag_set(key="llm.model", value="acme-model", merchant=tenants.acme)
    assert flag_overrides(merchant_id=tenants.acme.pk) == {"llm.model": "acme-model"}

    flag_delete(flag=merchant_flag)

    assert flag_overrides(merchant_id=tenants.acme.pk) == {"llm.model": "platform-model"}


@pytest.mark.django_db(transaction=True)
def test_flags_are_cached_in_redis_and_survive_a_flush(tenants: Tenants) -> None:
    flag_set(key="vad.stop_secs", value=1.1)
    client = redis.Redis.from_url(settings.REDIS_URL)
    flag_overrides(merchant_id=None)
    assert client.exists(CACHE_KEY) == 1

    client.flushdb()

    assert flag_overrides(merchant_id=None) == {"vad.stop_secs": 1.1}


@pytest.mark.django_db(transaction=True)
def test_flags_fall_back_to_the_database_when_redis_is_down(
    tenants: Tenants, settings: LazySettings
) -> None:
    flag_set(key="llm.provider", value="rules")
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    assert flag_overrides(merchant_id=None) == {"llm.provider": "rules"}


def test_node_settings_reset_to_template_then_apply_overrides(db: None) -> None:
    config = resolve_call_config(
        merchant_id=None, template_config=TEMPLATE_CONFIG, execution_mode="TELEPHONY"
    )
    collecting = {
        "vad": {"stop_secs": 1.5},
        "input_collection": {"enabled": True, "user_speech_timeout": 2.0},
        "llm": {"provider": "ignored: not a node setting"},
    }

    first = config.for_node(collecting)
    second = config.for_node({})

    assert first["vad"]["stop_secs"] == 1.5
    assert first["input_collection"] == {"enabled": True, "user_speech_timeout": 2.0}
    assert first["llm"]["provider"] == "openai"
    assert second["vad"] == config.call["vad"]
    assert second["input_collection"] == {"enabled": False, "user_speech_timeout": 0.0}


def test_playground_override_wins_but_only_in_test_modes(db: None) -> None:
    override = {"vad": {"stop_secs": 0.3}, "llm": {"provider": "rules"}}

    config = resolve_call_config(
        merchant_id=None,
        template_config=TEMPLATE_CONFIG,
        execution_mode="DAILY_TEST",
        playground_override=override,
    )
    with pytest.raises(ApplicationError) as refused:
        resolve_call_config(
            merchant_id=None,
            template_config=TEMPLATE_CONFIG,
            execution_mode="TELEPHONY",
            playground_override=override,
        )

    assert config.call["llm"]["provider"] == "rules"
    assert config.for_node({"vad": {"stop_secs": 1.5}})["vad"]["stop_secs"] == 0.3
    assert refused.value.field == "is_playground"
