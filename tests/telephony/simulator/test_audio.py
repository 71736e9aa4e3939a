from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from telephony.providers.simulator.audio import (
    duration_s,
    pcm_to_ulaw,
    resample,
    silence_pcm,
    synthesize,
    ulaw_to_pcm,
)


def pcm(*samples: int) -> bytes:
    return np.array(samples, dtype="<i2").tobytes()


def samples(data: bytes) -> list[int]:
    return [int(value) for value in np.frombuffer(data, dtype="<i2")]


def test_known_mulaw_codes() -> None:
    assert pcm_to_ulaw(pcm(0, 32767, -32768, 32124, -32124, 8, -8)) == bytes(
        [0xFF, 0x80, 0x00, 0x80, 0x00, 0xFE, 0x7E]
    )
    assert samples(ulaw_to_pcm(bytes([0xFF, 0x7F, 0x80, 0x00, 0xFE, 0x7E]))) == [
        0,
        0,
        32124,
        -32124,
        8,
        -8,
    ]


def test_every_code_survives_a_round_trip() -> None:
    codes = bytes(range(256))
    # 0x7F is "negative zero"; it decodes to 0, which encodes as positive zero.
    expected = codes.replace(b"\x7f", b"\xff")
    assert pcm_to_ulaw(ulaw_to_pcm(codes)) == expected


def test_round_trip_error_stays_within_half_a_step() -> None:
    every = np.arange(-32768, 32768, dtype="<i2")
    back = np.frombuffer(ulaw_to_pcm(pcm_to_ulaw(every.tobytes())), dtype="<i2")
    error = np.abs(back.astype(np.int32) - every.astype(np.int32))
    # Steps double per segment up to 1024 in the top one (half a step: 512), plus up to 3
    # from cutting to 14 bits first; past ±32124 the codec clips.
    assert error[np.abs(every.astype(np.int32)) < 32124].max() <= 512 + 3
    assert np.all(np.diff(back.astype(np.int32)) >= 0)


def test_matches_audioop_bit_for_bit() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    every = np.arange(-32768, 32768, dtype="<i2").tobytes()
    assert pcm_to_ulaw(every) == audioop.lin2ulaw(every, 2)
    assert ulaw_to_pcm(bytes(range(256))) == audioop.ulaw2lin(bytes(range(256)), 2)


@pytest.mark.parametrize(
    ("source", "target", "seconds"),
    [(22050, 8000, 1.0), (8000, 16000, 0.5), (16000, 8000, 0.02), (8000, 8000, 1.0)],
)
def test_resample_keeps_duration(source: int, target: int, seconds: float) -> None:
    tone = (np.sin(np.arange(int(source * seconds)) / 5) * 8000).astype("<i2").tobytes()
    out = resample(tone, source, target)
    assert len(out) % 2 == 0
    assert abs(len(out) // 2 - round(target * seconds)) <= 1


def test_silence() -> None:
    assert silence_pcm(20) == bytes(320)
    assert duration_s(silence_pcm(1500)) == 1.5
    assert pcm_to_ulaw(silence_pcm(20)) == b"\xff" * 160


def test_synthesize_short_phrase() -> None:
    started = time.perf_counter()
    audio = synthesize("yes please")
    elapsed = time.perf_counter() - started
    assert 0.5 < duration_s(audio) < 1.5
    level = np.abs(np.frombuffer(audio, dtype="<i2")).max()
    assert level > 3000
    assert elapsed < 10  # includes loading the voice on first use
    assert synthesize("yes please") is audio  # cached


def test_synthesis_is_reproducible() -> None:
    # Bypass the cache: the same text must give the same samples, so calls replay exactly.
    assert synthesize.__wrapped__("no thanks") == synthesize.__wrapped__("no thanks")
