from __future__ import annotations

from calls.voice.speech import registry
from templates_app.pipecat_compat import (
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    run_test,
)


async def test_piper_speaks_at_the_phone_rate_without_downloading() -> None:
    tts = registry.build_tts(
        {"tts": {"provider": "piper", "voice": "en_US-joe-medium"}},
        credentials={},
        sample_rate=8000,
    )

    down, _ = await run_test(tts, frames_to_send=[TTSSpeakFrame("Hello there")])

    audio = [frame for frame in down if isinstance(frame, TTSAudioRawFrame)]
    kinds = [type(frame) for frame in down]
    assert audio
    assert {(frame.sample_rate, frame.num_channels) for frame in audio} == {(8000, 1)}
    seconds = sum(len(frame.audio) for frame in audio) / 2 / 8000
    assert 0.4 <= seconds <= 2.0
    assert kinds.index(TTSStartedFrame) < kinds.index(TTSAudioRawFrame)
    assert kinds.index(TTSStoppedFrame) > max(
        i for i, k in enumerate(kinds) if k is TTSAudioRawFrame
    )
