"""The call's VAD skips Silero on a quiet line, and decides exactly as Pipecat's would."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from calls.voice.speech.vad import PRIME_WINDOWS, CallVADAnalyzer
from templates_app.pipecat_compat import SileroVADAnalyzer, VADParams, VADState

from .conftest import PHONE_RATE, silence

FRAME_BYTES = 2 * PHONE_RATE // 50  # 20 ms
WINDOW_BYTES = 2 * 256  # Silero's window at 8 kHz: 32 ms
PARAMS = VADParams(confidence=0.7, start_secs=0.2, stop_secs=0.3, min_volume=0.6)


def line_noise(seconds: float, *, dbfs: float) -> bytes:
    """White noise at `dbfs` RMS, as a quiet phone line hisses."""
    rng = np.random.default_rng(7)
    amplitude = 32768 * 10 ** (dbfs / 20)
    samples = rng.normal(0, amplitude, int(PHONE_RATE * seconds))
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def transitions(analyzer: SileroVADAnalyzer, audio: bytes) -> list[tuple[int, VADState]]:
    """(20 ms frame index, new state) each time the VAD's state changes."""
    analyzer.set_sample_rate(PHONE_RATE)
    analyzer.set_params(PARAMS)
    changes, state = [], VADState.QUIET
    for index, start in enumerate(range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES)):
        new = analyzer._run_analyzer(audio[start : start + FRAME_BYTES])
        if new != state:
            changes.append((index, new))
            state = new
    return changes


@pytest.fixture(scope="module")
def conversation(say: Callable[[str], bytes]) -> bytes:
    """A customer's side of a call: digital silence, speech, line hiss, speech, a pause."""
    return (
        silence(1.5)
        + say("yes please, that is my order")
        + line_noise(2.0, dbfs=-66)
        + say("no, the address is wrong")
        + silence(0.7)
        + say("thank you")
        + silence(1.0)
    )


def test_it_decides_as_pipecats_silero_does(conversation: bytes) -> None:
    stock = transitions(SileroVADAnalyzer(), conversation)

    assert transitions(CallVADAnalyzer(), conversation) == stock
    # Three utterances (the first two with a pause inside), each ended after 0.3 s of quiet.
    starting, speaking, stopping, quiet = (
        VADState.STARTING,
        VADState.SPEAKING,
        VADState.STOPPING,
        VADState.QUIET,
    )
    assert stock == [
        (86, starting), (94, speaking), (115, stopping), (127, speaking), (185, stopping), (198, quiet),
        (287, starting), (295, speaking), (303, stopping), (315, speaking), (369, stopping), (382, quiet),
        (417, starting), (425, speaking), (436, stopping), (449, quiet),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("hiss_dbfs", "skipped"),
    [
        (-75, 109),  # under BS.1770's absolute gate: reads as silence
        (-66, 55),  # loud enough to count: scored once the volume has risen
    ],
)
def test_it_skips_windows_while_the_line_is_quiet(hiss_dbfs: float, skipped: int) -> None:
    analyzer = CallVADAnalyzer()
    quiet = silence(1.5) + line_noise(2.0, dbfs=hiss_dbfs)

    transitions(analyzer, quiet)

    assert (len(quiet) // WINDOW_BYTES, analyzer.windows_skipped) == (109, skipped)


def test_it_scores_every_window_when_no_volume_is_too_low() -> None:
    analyzer = CallVADAnalyzer()
    analyzer.set_sample_rate(PHONE_RATE)
    analyzer.set_params(PARAMS.model_copy(update={"min_volume": 0.0}))

    for _ in range(100):  # 2 s
        analyzer._run_analyzer(silence(0.02))

    assert analyzer.windows_skipped == 0


def test_the_model_settles_on_the_quiet_before_speech(say: Callable[[str], bytes]) -> None:
    analyzer = CallVADAnalyzer()
    scored: list[bytes] = []
    model = analyzer._model
    original = model.__call__

    class Recording:
        def __call__(self, x: np.ndarray, sr: int) -> np.ndarray:
            scored.append((x * 32768).astype("<i2").tobytes())
            return original(x, sr)

        def __getattr__(self, name: str) -> object:
            return getattr(model, name)

    analyzer._model = Recording()  # type: ignore[assignment]
    audio = line_noise(2.0, dbfs=-80) + say("yes")
    transitions(analyzer, audio)

    windows = [audio[start : start + WINDOW_BYTES] for start in range(0, len(audio), WINDOW_BYTES)]
    first = windows.index(scored[PRIME_WINDOWS])
    # Before the first window that counts, the model has seen the windows just before it.
    assert first > PRIME_WINDOWS
    assert scored[: PRIME_WINDOWS + 1] == windows[first - PRIME_WINDOWS : first + 1]
