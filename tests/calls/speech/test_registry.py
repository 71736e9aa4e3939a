from __future__ import annotations

import threading
from typing import Any

import pytest

from calls.voice.speech import registry
from calls.voice.speech.exceptions import (
    MissingCredentialsError,
    ProviderUnavailableError,
    SpeechConfigError,
    UnknownProviderError,
)
from calls.voice.speech.pocketsphinx_stt import PocketsphinxSTTService, load_pocketsphinx_model
from config.types import PROVIDER_REQUIRED_SECRETS
from templates_app.pipecat_compat import (
    LLMService,
    PiperTTSService,
    SileroVADAnalyzer,
    VADParams,
    VADState,
)

# Fake secrets for every provider: building a service must never call its API.
FAKE = {
    name: {key: f"{name}-{key}" for key in keys} for name, keys in PROVIDER_REQUIRED_SECRETS.items()
}
RATE = 8000
OFFLINE = {
    "stt": {"provider": "pocketsphinx", "language": "en-US"},
    "tts": {"provider": "piper", "voice": "en_US-joe-medium"},
    "llm": {"provider": "rules", "model": "gpt-4o", "temperature": 0.3},
}


def stt(section: dict[str, Any], credentials: Any = FAKE) -> Any:
    return registry.build_stt({"stt": section}, credentials=credentials, sample_rate=RATE)


def tts(section: dict[str, Any], credentials: Any = FAKE) -> Any:
    return registry.build_tts({"tts": section}, credentials=credentials, sample_rate=RATE)


def llm(section: dict[str, Any], credentials: Any = FAKE) -> Any:
    return registry.build_llm({"llm": section}, credentials=credentials, rules_factory=LLMService)


def test_warm_up_loads_each_offline_model_once() -> None:
    registry.warm_up()
    model, voice = load_pocketsphinx_model(), registry._joe_voice()

    registry.warm_up()

    assert registry._load_offline_models.cache_info().misses == 1
    assert load_pocketsphinx_model() is model
    assert registry._joe_voice() is voice


def test_offline_stack_after_warm_up_reuses_the_loaded_models() -> None:
    registry.warm_up()
    rules = LLMService()

    first_stt = registry.build_stt(OFFLINE, credentials={}, sample_rate=RATE)
    second_stt = registry.build_stt(OFFLINE, credentials={}, sample_rate=RATE)
    first_tts = registry.build_tts(OFFLINE, credentials={}, sample_rate=RATE)
    second_tts = registry.build_tts(OFFLINE, credentials={}, sample_rate=RATE)
    built_llm = registry.build_llm(OFFLINE, credentials={}, rules_factory=lambda: rules)

    assert isinstance(first_stt, PocketsphinxSTTService)
    assert isinstance(second_stt, PocketsphinxSTTService)
    assert first_stt is not second_stt
    assert first_stt._model is second_stt._model is load_pocketsphinx_model()
    assert first_stt._init_sample_rate == RATE
    assert isinstance(first_tts, PiperTTSService)
    assert isinstance(second_tts, PiperTTSService)
    assert first_tts is not second_tts
    assert first_tts._voice is second_tts._voice is registry._joe_voice()
    assert vars(first_tts._settings)["voice"] == "en_US-joe-medium"
    assert first_tts._init_sample_rate == RATE
    assert built_llm is rules


def test_offline_providers_are_the_default_for_an_empty_config() -> None:
    built_stt = registry.build_stt({}, credentials={}, sample_rate=RATE)
    built_tts = registry.build_tts({}, credentials={}, sample_rate=RATE)

    assert isinstance(built_stt, PocketsphinxSTTService)
    assert isinstance(built_tts, PiperTTSService)
    assert built_tts._voice is registry._joe_voice()


def test_pocketsphinx_takes_its_initial_phrases_from_options() -> None:
    service = stt({"provider": "pocketsphinx", "options": {"phrases": ["yes please", "no"]}})

    assert service.phrases == {"yes please", "no"}


def test_the_warm_vad_analyzer_is_handed_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    warm = SileroVADAnalyzer()
    monkeypatch.setattr(registry, "_spare_vad", [warm])

    first = registry.build_vad_analyzer(sample_rate=RATE, params=VADParams(stop_secs=0.8))
    second = registry.build_vad_analyzer(sample_rate=RATE)

    assert first is warm
    assert first.params.stop_secs == 0.8
    assert first.sample_rate == RATE
    assert second is not warm
    assert isinstance(second, SileroVADAnalyzer)


async def test_the_vad_analyses_each_frame_in_the_loop_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    analyzer = registry.build_vad_analyzer(sample_rate=RATE)
    analyzer.set_sample_rate(RATE)  # as the user aggregator does when the call starts
    threads: list[int] = []
    analyse = analyzer._run_analyzer

    def traced(buffer: bytes) -> VADState:
        threads.append(threading.get_ident())
        return analyse(buffer)

    monkeypatch.setattr(analyzer, "_run_analyzer", traced)

    states = [await analyzer.analyze_audio(bytes(320)) for _ in range(5)]

    assert states == [VADState.QUIET] * 5
    assert threads == [threading.get_ident()] * 5


@pytest.mark.parametrize(
    ("section", "service", "settings"),
    [
        (
            {"provider": "soniox", "model": "stt-rt-preview", "language": "en-US"},
            "SonioxSTTService",
            {"model": "stt-rt-preview", "language_hints": ["en-US"]},
        ),
        (
            {"provider": "openai", "model": "gpt-4o-transcribe", "language": "en-US"},
            "OpenAISTTService",
            {"model": "gpt-4o-transcribe", "language": "en"},
        ),
    ],
)
def test_real_stt_providers_build_with_credentials(
    section: dict[str, Any], service: str, settings: dict[str, Any]
) -> None:
    built = stt(section)

    assert type(built).__name__ == service
    assert {key: getattr(built._settings, key) for key in settings} == settings
    assert built._init_sample_rate == RATE


@pytest.mark.parametrize(
    ("section", "service", "settings"),
    [
        (
            {
                "provider": "elevenlabs",
                "model": "eleven_turbo_v2_5",
                "voice": "el-voice",
                "language": "en-US",
                "options": {"stability": 0.4},
            },
            "ElevenLabsTTSService",
            {"model": "eleven_turbo_v2_5", "voice": "el-voice", "language": "en", "stability": 0.4},
        ),
        (
            {"provider": "cartesia", "model": "sonic-2", "voice": "c-voice", "language": "en-US"},
            "CartesiaTTSService",
            {"model": "sonic-2", "voice": "c-voice", "language": "en-US"},
        ),
        (
            {"provider": "sarvam", "model": "bulbul:v3", "voice": "shubh", "language": "en-IN"},
            "SarvamTTSService",
            {"model": "bulbul:v3", "voice": "shubh", "language": "en-IN"},
        ),
    ],
)
def test_real_tts_providers_build_with_credentials(
    section: dict[str, Any], service: str, settings: dict[str, Any]
) -> None:
    built = tts(section)

    assert type(built).__name__ == service
    assert {key: getattr(built._settings, key) for key in settings} == settings
    assert built._init_sample_rate == RATE
    assert built._api_key == FAKE[section["provider"]]["api_key"]


def test_openai_llm_takes_model_temperature_and_key() -> None:
    built = llm({"provider": "openai", "model": "gpt-4o", "temperature": 0.3})

    assert type(built).__name__ == "OpenAILLMService"
    assert (built._settings.model, built._settings.temperature) == ("gpt-4o", 0.3)
    assert built._client.api_key == "openai-api_key"


def test_azure_openai_llm_takes_the_endpoint_from_credentials() -> None:
    built = llm(
        {"provider": "azure_openai", "model": "gpt-4o", "temperature": 0.2, "options": {"seed": 7}}
    )

    assert type(built).__name__ == "AzureLLMService"
    assert (built._settings.model, built._settings.temperature) == ("gpt-4o", 0.2)
    assert built._settings.seed == 7
    assert built._endpoint == "azure_openai-endpoint"
    assert built._client.api_key == "azure_openai-api_key"


# These fail here because the vendor SDK is not installed; if one starts building, the
# environment changed and the table in this test (and the deployment notes) must follow.
@pytest.mark.parametrize(
    ("kind", "provider", "module", "extra"),
    [
        ("stt", "deepgram", "deepgram", "deepgram"),
        ("stt", "sarvam", "sarvamai", "sarvam"),
        ("stt", "google", "google.api_core", "google"),
        ("tts", "google", "google.genai", "google"),
    ],
)
def test_providers_whose_sdk_is_missing_say_which_module(
    kind: str, provider: str, module: str, extra: str
) -> None:
    build = stt if kind == "stt" else tts

    with pytest.raises(ProviderUnavailableError) as raised:
        build({"provider": provider, "voice": "any", "language": "en-US"})

    assert (raised.value.provider, raised.value.missing_module) == (provider, module)
    assert raised.value.extra == extra
    assert raised.value.field == f"{kind}.provider"
    assert f"pipecat-ai[{extra}]" in raised.value.message


@pytest.mark.parametrize(
    ("build", "field"), [(stt, "stt.provider"), (tts, "tts.provider"), (llm, "llm.provider")]
)
def test_unknown_provider_names_the_config_field(build: Any, field: str) -> None:
    with pytest.raises(UnknownProviderError) as raised:
        build({"provider": "telepathy"})

    assert raised.value.field == field
    assert raised.value.provider == "telepathy"


@pytest.mark.parametrize(
    ("build", "section", "credentials", "provider", "keys"),
    [
        (stt, {"provider": "deepgram"}, {}, "deepgram", ("api_key",)),
        (
            tts,
            {"provider": "elevenlabs", "voice": "v"},
            {"elevenlabs": {}},
            "elevenlabs",
            ("api_key",),
        ),
        (
            llm,
            {"provider": "azure_openai"},
            {"azure_openai": {"api_key": "k", "endpoint": ""}},
            "azure_openai",
            ("endpoint",),
        ),
    ],
)
def test_missing_credentials_name_provider_and_keys(
    build: Any, section: dict[str, Any], credentials: Any, provider: str, keys: tuple[str, ...]
) -> None:
    with pytest.raises(MissingCredentialsError) as raised:
        build(section, credentials)

    assert (raised.value.provider, raised.value.keys) == (provider, keys)
    assert raised.value.field == f"credentials.{provider}"


@pytest.mark.parametrize(
    ("build", "section", "field"),
    [
        (
            tts,
            {"provider": "elevenlabs", "voice": "v", "options": {"url": "wss://evil"}},
            "tts.options.url",
        ),
        (
            tts,
            {"provider": "elevenlabs", "voice": "v", "options": {"voice": "w"}},
            "tts.options.voice",
        ),
        (tts, {"provider": "elevenlabs"}, "tts.voice"),
        (tts, {"provider": "piper", "voice": "en_US-ryan-high"}, "tts.voice"),
        (tts, {"provider": "piper", "options": {"speed": 2}}, "tts.options.speed"),
        (stt, {"provider": "pocketsphinx", "language": "hi-IN"}, "stt.language"),
        (stt, {"provider": "pocketsphinx", "options": {"phrases": "yes"}}, "stt.options.phrases"),
        (stt, {"provider": "google", "language": "xx-YY"}, "stt.language"),
        (stt, {"provider": 7}, "stt.provider"),
        (llm, {"provider": "openai", "temperature": "warm"}, "llm.temperature"),
        (llm, {"provider": "openai", "options": ["seed"]}, "llm.options"),
    ],
)
def test_bad_config_names_the_field(build: Any, section: dict[str, Any], field: str) -> None:
    with pytest.raises(SpeechConfigError) as raised:
        build(section)

    assert raised.value.field == field
