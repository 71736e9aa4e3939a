"""Build a call's STT, TTS and LLM services from its effective config and merchant credentials.

`config` is the call's whole effective config; each builder reads its own section
(`{"provider": ..., "model": ..., "voice": ..., "language": ..., "options": {...}}`).
`options` may set only fields of the provider's Pipecat `Settings` (say ElevenLabs
`stability`): constructor arguments such as endpoint URLs never come from a template, so a
template cannot send a merchant's key to another host.

The offline defaults (pocketsphinx, Piper with the bundled joe voice, the caller's rules
engine) need no keys. A worker process serves one call, so `warm_up()` loads their models
before the call arrives and the builders reuse them. Vendor services are imported only when
chosen: several need an SDK extra that may not be installed, reported as
`ProviderUnavailableError`.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from piper import PiperVoice

from calls.voice.speech.exceptions import (
    MissingCredentialsError,
    ProviderUnavailableError,
    SpeechConfigError,
    UnknownProviderError,
)
from calls.voice.speech.fixed_delay import (
    FixedDelay,
    FixedDelayLLMService,
    FixedDelaySTTService,
    FixedDelayTTSService,
)
from calls.voice.speech.piper_voice import load_joe_voice
from calls.voice.speech.pocketsphinx_stt import (
    PocketsphinxSTTService,
    Recognizer,
    load_pocketsphinx_model,
)
from calls.voice.speech.shared.client import RemoteRecognizer, RemoteVoice, SpeechServerClient
from calls.voice.speech.vad import CallVADAnalyzer
from config.types import PROVIDER_REQUIRED_SECRETS
from templates_app.pipecat_compat import (
    Language,
    LLMService,
    PiperTTSService,
    ServiceSettings,
    STTService,
    TTSService,
    VADParams,
)

logger = logging.getLogger(__name__)

OFFLINE_STT = "pocketsphinx"
OFFLINE_TTS = "piper"
OFFLINE_LLM = "rules"
OFFLINE_VOICE = "en_US-joe-medium"

Credentials = Mapping[str, Mapping[str, str]]
S = TypeVar("S", bound=ServiceSettings)

# The pipecat-ai extra that installs each provider's vendor SDK, for the error message.
_EXTRAS = {"deepgram": "deepgram", "google": "google", "sarvam": "sarvam"}


@dataclass(frozen=True)
class _Section:
    """One service's part of the effective config, checked for shape."""

    kind: str
    provider: str
    model: str | None
    voice: str | None
    language: str | None
    temperature: float | None
    options: Mapping[str, Any]

    def field(self, name: str) -> str:
        return f"{self.kind}.{name}"


def _section(config: Mapping[str, Any], kind: str, default: str) -> _Section:
    raw = config.get(kind) or {}
    if not isinstance(raw, Mapping):
        raise SpeechConfigError(f"{kind} must be an object", field=kind)
    texts = {}
    for name in ("provider", "model", "voice", "language"):
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise SpeechConfigError(f"{kind}.{name} must be a string", field=f"{kind}.{name}")
        texts[name] = value
    temperature = raw.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, int | float)
    ):
        raise SpeechConfigError(f"{kind}.temperature must be a number", field=f"{kind}.temperature")
    options = raw.get("options") or {}
    if not isinstance(options, Mapping):
        raise SpeechConfigError(f"{kind}.options must be an object", field=f"{kind}.options")
    return _Section(
        kind=kind,
        provider=texts["provider"] or default,
        model=texts["model"],
        voice=texts["voice"],
        language=texts["language"],
        temperature=None if temperature is None else float(temperature),
        options=options,
    )


def _secrets(section: _Section, credentials: Credentials) -> Mapping[str, str]:
    secrets = credentials.get(section.provider) or {}
    missing = [key for key in PROVIDER_REQUIRED_SECRETS[section.provider] if not secrets.get(key)]
    if missing:
        raise MissingCredentialsError(section.provider, missing)
    return secrets


def _settings(settings_class: type[S], section: _Section, **given: Any) -> S:
    """The provider's Settings: the section's own values plus its `options`."""
    known = {field.name for field in dataclasses.fields(settings_class)} - set(given)
    for key in section.options:
        if key in given:
            reason = f"set it as {section.field(key)}"
        elif key not in known:
            reason = f"{section.provider} takes {', '.join(sorted(known))}"
        else:
            continue
        raise SpeechConfigError(
            f"option {key!r} is not allowed: {reason}", field=section.field(f"options.{key}")
        )
    values = {key: value for key, value in given.items() if value is not None}
    return settings_class(**values, **section.options)


@contextmanager
def _vendor_sdk(section: _Section) -> Iterator[None]:
    """Turn a vendor SDK missing under a Pipecat service module into a named error."""
    try:
        yield
    except ImportError as error:
        # Pipecat re-raises the SDK's ModuleNotFoundError as a plain ImportError.
        cause = error.__cause__ if isinstance(error.__cause__, ImportError) else error
        raise ProviderUnavailableError(
            section.provider,
            cause.name or str(cause),
            extra=_EXTRAS.get(section.provider),
            field=section.field("provider"),
        ) from error


def _require_voice(section: _Section) -> str:
    if not section.voice:
        raise SpeechConfigError(f"{section.provider} needs a voice", field=section.field("voice"))
    return section.voice


def _language(section: _Section) -> Language | None:
    if section.language is None:
        return None
    try:
        return Language(section.language)
    except ValueError:
        raise SpeechConfigError(
            f"unknown language {section.language!r}", field=section.field("language")
        ) from None


# --- offline models, loaded once per process ---------------------------------------------

# The voice pool sets this to its speech server's socket: its workers then use the models
# loaded there instead of each loading its own (docs/adr/0002-shared-speech-server.md).
SPEECH_SERVER_ENV = "BREEZE_SPEECH_SERVER"


@cache
def _speech_server() -> SpeechServerClient | None:
    path = os.environ.get(SPEECH_SERVER_ENV)
    return SpeechServerClient(path) if path else None


@cache
def _recognizer() -> Recognizer:
    client = _speech_server()
    return RemoteRecognizer(client) if client is not None else load_pocketsphinx_model()


@cache
def _joe_voice() -> PiperVoice | RemoteVoice:
    client = _speech_server()
    return RemoteVoice(client) if client is not None else load_joe_voice()


class _WarmPiperTTSService(PiperTTSService):
    """Pipecat's Piper service around the process's already loaded joe voice.

    `PiperTTSService.__init__` loads the .onnx voice (about 0.4 s) on every construction;
    this sets up the same state with the voice `warm_up()` loaded, so a call pays nothing.
    """

    def __init__(self, *, voice: PiperVoice | RemoteVoice, sample_rate: int) -> None:
        TTSService.__init__(
            self,
            push_start_frame=True,
            push_stop_frames=True,
            sample_rate=sample_rate,
            settings=PiperTTSService.Settings(model=None, voice=OFFLINE_VOICE, language=None),
        )
        self._voice = voice  # type: ignore[assignment]


_spare_vad: list[CallVADAnalyzer] = []


@cache
def _load_offline_models() -> None:
    started = time.perf_counter()
    _recognizer()
    _joe_voice()
    _spare_vad.append(CallVADAnalyzer())
    # Every LLM service, the rules engine too, builds Pipecat's OpenAI adapter, which imports
    # the openai SDK on first use: 0.7-0.9 s here, which a call's start would wait for.
    importlib.import_module("pipecat.adapters.llm.services.open_ai_adapter")
    logger.info("offline speech models loaded in %.2fs", time.perf_counter() - started)


def warm_up() -> None:
    """Load pocketsphinx, the Piper joe voice and Silero VAD once per process (idempotent).

    With a speech server (`SPEECH_SERVER_ENV`), pocketsphinx and Piper stay in it and this
    process holds only a client.
    """
    _load_offline_models()
    if not _spare_vad:
        # A warm worker always holds a loaded analyzer for its next call.
        _spare_vad.append(CallVADAnalyzer())


def build_vad_analyzer(*, sample_rate: int, params: VADParams | None = None) -> CallVADAnalyzer:
    """Silero VAD for a call: the one `warm_up()` loaded, the first time, else a new one.

    An analyzer keeps a call's state, so each is handed out once.
    """
    if not _spare_vad:
        return CallVADAnalyzer(sample_rate=sample_rate, params=params)
    analyzer = _spare_vad.pop()
    analyzer.set_sample_rate(sample_rate)
    if params is not None:
        analyzer.set_params(params)
    return analyzer


def _fixed_delay(section: _Section) -> FixedDelay:
    # Benchmarks and tests only: a real call must never answer with a tone.
    if not getattr(settings, "BREEZE_FIXED_DELAY_SPEECH", False):
        raise UnknownProviderError(section.provider, field=section.field("provider"))
    return FixedDelay.from_options(section.options, field=section.field("options"))


# --- STT ---------------------------------------------------------------------------------


def _pocketsphinx(section: _Section, credentials: Credentials, sample_rate: int) -> STTService:
    if section.language is not None and section.language.lower() not in {"en", "en-us"}:
        raise SpeechConfigError(
            "pocketsphinx only recognises US English", field=section.field("language")
        )
    phrases = section.options.get("phrases", [])
    unknown = set(section.options) - {"phrases"}
    if unknown or not isinstance(phrases, list):
        bad = min(unknown) if unknown else "phrases"
        raise SpeechConfigError(
            "pocketsphinx takes only options.phrases, a list of strings",
            field=section.field(f"options.{bad}"),
        )
    return PocketsphinxSTTService(
        model=_recognizer(), phrases=[str(p) for p in phrases], sample_rate=sample_rate
    )


def _deepgram_stt(section: _Section, credentials: Credentials, sample_rate: int) -> STTService:
    secrets = _secrets(section, credentials)
    with _vendor_sdk(section):
        from pipecat.services.deepgram.stt import DeepgramSTTService
    settings = _settings(
        DeepgramSTTService.Settings, section, model=section.model, language=section.language
    )
    return DeepgramSTTService(
        api_key=secrets["api_key"], sample_rate=sample_rate, settings=settings
    )


def _soniox_stt(section: _Section, credentials: Credentials, sample_rate: int) -> STTService:
    secrets = _secrets(section, credentials)
    with _vendor_sdk(section):
        from pipecat.services.soniox.stt import SonioxSTTService
    settings = _settings(
        SonioxSTTService.Settings, section, model=section.model, language=section.language
    )
    return SonioxSTTService(api_key=secrets["api_key"], sample_rate=sample_rate, settings=settings)


def _sarvam_stt(section: _Section, credentials: Credentials, sample_rate: int) -> STTService:
    secrets = _secrets(section, credentials)
    with _vendor_sdk(section):
        from pipecat.services.sarvam.stt import SarvamSTTService
    settings = _settings(
        SarvamSTTService.Settings, section, model=section.model, language=section.language
    )
    return SarvamSTTService(api_key=secrets["api_key"], sample_rate=sample_rate, settings=settings)


def _google_stt(section: _Section, credentials: Credentials, sample_rate: int) -> STTService:
    secrets = _secrets(section, credentials)
    language = _language(section)
    with _vendor_sdk(section):
        from pipecat.services.google.stt import GoogleSTTService
    settings = _settings(
        GoogleSTTService.Settings,
        section,
        model=section.model,
        languages=[language] if language else None,
    )
    return GoogleSTTService(
        credentials=secrets["credentials_json"], sample_rate=sample_rate, settings=settings
    )


def _openai_stt(section: _Section, credentials: Credentials, sample_rate: int) -> STTService:
    secrets = _secrets(section, credentials)
    language = _language(section)
    with _vendor_sdk(section):
        from pipecat.services.openai.stt import OpenAISTTService
    settings = _settings(OpenAISTTService.Settings, section, model=section.model, language=language)
    return OpenAISTTService(api_key=secrets["api_key"], sample_rate=sample_rate, settings=settings)


_STT: dict[str, Callable[[_Section, Credentials, int], STTService]] = {
    OFFLINE_STT: _pocketsphinx,
    "deepgram": _deepgram_stt,
    "soniox": _soniox_stt,
    "sarvam": _sarvam_stt,
    "google": _google_stt,
    "openai": _openai_stt,
    "fixed_delay": lambda section, _credentials, sample_rate: FixedDelaySTTService(
        fixed=_fixed_delay(section), sample_rate=sample_rate
    ),
}


def build_stt(
    config: Mapping[str, Any], *, credentials: Credentials, sample_rate: int
) -> STTService:
    """The call's STT service from `config["stt"]` (pocketsphinx when unset)."""
    section = _section(config, "stt", OFFLINE_STT)
    builder = _STT.get(section.provider)
    if builder is None:
        raise UnknownProviderError(section.provider, field="stt.provider")
    return builder(section, credentials, sample_rate)


# --- TTS ---------------------------------------------------------------------------------


def _piper(section: _Section, credentials: Credentials, sample_rate: int) -> TTSService:
    if section.voice not in {None, OFFLINE_VOICE}:
        raise SpeechConfigError(
            f"piper has only the bundled voice {OFFLINE_VOICE}", field=section.field("voice")
        )
    if section.options:
        raise SpeechConfigError(
            "piper takes no options", field=section.field(f"options.{next(iter(section.options))}")
        )
    return _WarmPiperTTSService(voice=_joe_voice(), sample_rate=sample_rate)


def _elevenlabs_tts(section: _Section, credentials: Credentials, sample_rate: int) -> TTSService:
    secrets = _secrets(section, credentials)
    voice = _require_voice(section)
    with _vendor_sdk(section):
        from pipecat.services.elevenlabs.tts import ElevenLabsTTSService
    settings = _settings(
        ElevenLabsTTSService.Settings,
        section,
        model=section.model,
        voice=voice,
        language=section.language,
    )
    return ElevenLabsTTSService(
        api_key=secrets["api_key"], sample_rate=sample_rate, settings=settings
    )


def _cartesia_tts(section: _Section, credentials: Credentials, sample_rate: int) -> TTSService:
    secrets = _secrets(section, credentials)
    voice = _require_voice(section)
    with _vendor_sdk(section):
        from pipecat.services.cartesia.tts import CartesiaTTSService
    settings = _settings(
        CartesiaTTSService.Settings,
        section,
        model=section.model,
        voice=voice,
        language=section.language,
    )
    return CartesiaTTSService(
        api_key=secrets["api_key"], sample_rate=sample_rate, settings=settings
    )


def _sarvam_tts(section: _Section, credentials: Credentials, sample_rate: int) -> TTSService:
    secrets = _secrets(section, credentials)
    with _vendor_sdk(section):
        from pipecat.services.sarvam.tts import SarvamTTSService
    settings = _settings(
        SarvamTTSService.Settings,
        section,
        model=section.model,
        voice=section.voice,
        language=section.language,
    )
    return SarvamTTSService(api_key=secrets["api_key"], sample_rate=sample_rate, settings=settings)


def _google_tts(section: _Section, credentials: Credentials, sample_rate: int) -> TTSService:
    secrets = _secrets(section, credentials)
    with _vendor_sdk(section):
        from pipecat.services.google.tts import GoogleTTSService
    settings = _settings(
        GoogleTTSService.Settings, section, voice=section.voice, language=section.language
    )
    return GoogleTTSService(
        credentials=secrets["credentials_json"], sample_rate=sample_rate, settings=settings
    )


_TTS: dict[str, Callable[[_Section, Credentials, int], TTSService]] = {
    OFFLINE_TTS: _piper,
    "elevenlabs": _elevenlabs_tts,
    "cartesia": _cartesia_tts,
    "sarvam": _sarvam_tts,
    "google": _google_tts,
    "fixed_delay": lambda section, _credentials, sample_rate: FixedDelayTTSService(
        fixed=_fixed_delay(section), sample_rate=sample_rate
    ),
}


def build_tts(
    config: Mapping[str, Any], *, credentials: Credentials, sample_rate: int
) -> TTSService:
    """The call's TTS service from `config["tts"]` (Piper's joe voice when unset)."""
    section = _section(config, "tts", OFFLINE_TTS)
    builder = _TTS.get(section.provider)
    if builder is None:
        raise UnknownProviderError(section.provider, field="tts.provider")
    return builder(section, credentials, sample_rate)


# --- LLM ---------------------------------------------------------------------------------


def _openai_base_url(secrets: Mapping[str, str]) -> str:
    # A merchant's credential may point at any OpenAI-compatible endpoint (a gateway, or a
    # local server in tests); the URL is part of the secret, never of a template.
    return secrets.get("base_url") or settings.BREEZE_OPENAI_BASE_URL


def _bounded(service: Any) -> LLMService[Any]:
    """The service with an OpenAI client that gives up soon and never retries.

    The SDK would wait up to ten minutes per read and retry twice with backoff; a caller on
    the line cannot. A failure is reported at once and the rules engine answers instead
    (`templates_app.dialogue.fallback`). Pipecat builds the client itself, so it is replaced.
    """
    service._client = service._client.with_options(
        timeout=float(settings.BREEZE_LLM_TIMEOUT_SECONDS), max_retries=0
    )
    bounded: LLMService[Any] = service
    return bounded


def _openai_llm(section: _Section, credentials: Credentials) -> LLMService[Any]:
    secrets = _secrets(section, credentials)
    with _vendor_sdk(section):
        from pipecat.services.openai.llm import OpenAILLMService
    settings = _settings(
        OpenAILLMService.Settings,
        section,
        model=section.model,
        temperature=section.temperature,
    )
    return _bounded(
        OpenAILLMService(
            api_key=secrets["api_key"], base_url=_openai_base_url(secrets), settings=settings
        )
    )


def _azure_openai_llm(section: _Section, credentials: Credentials) -> LLMService[Any]:
    secrets = _secrets(section, credentials)
    with _vendor_sdk(section):
        from pipecat.services.azure.llm import AzureLLMService
    settings = _settings(
        AzureLLMService.Settings,
        section,
        model=section.model,
        temperature=section.temperature,
    )
    return _bounded(
        AzureLLMService(endpoint=secrets["endpoint"], api_key=secrets["api_key"], settings=settings)
    )


_LLM: dict[str, Callable[[_Section, Credentials], LLMService[Any]]] = {
    "openai": _openai_llm,
    "azure_openai": _azure_openai_llm,
    "fixed_delay": lambda section, _credentials: FixedDelayLLMService(fixed=_fixed_delay(section)),
}


def build_llm(
    config: Mapping[str, Any],
    *,
    credentials: Credentials,
    rules_factory: Callable[[], LLMService[Any]],
) -> LLMService[Any]:
    """The call's LLM service from `config["llm"]`; `rules` (the default) is `rules_factory()`.

    The rules engine needs the call's flow, so the caller builds it.
    """
    section = _section(config, "llm", OFFLINE_LLM)
    if section.provider == OFFLINE_LLM:
        return rules_factory()
    builder = _LLM.get(section.provider)
    if builder is None:
        raise UnknownProviderError(section.provider, field="llm.provider")
    return builder(section, credentials)
