from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import pytest

from calls.voice.speech.pocketsphinx_stt import PocketsphinxSTTService, load_pocketsphinx_model
from templates_app.pipecat_compat import (
    InputAudioRawFrame,
    Language,
    MetricsFrame,
    Pipeline,
    PipelineParams,
    ProcessingMetricsData,
    SileroVADAnalyzer,
    TranscriptionFrame,
    VADParams,
    VADProcessor,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
    pcm_to_wav,
    run_test,
)
from tests.calls.speech.conftest import PHONE_RATE, silence

NODE_PHRASES = ["yes please", "cancel the order", "tomorrow", "no thanks", "talk to an agent"]
Say = Callable[[str], bytes]


def segment(speech: bytes) -> bytes:
    """A segment as SegmentedSTTService hands it over: pre-roll, speech, tail, as WAV."""
    return pcm_to_wav(silence(1.0) + speech + silence(1.3), PHONE_RATE)


def stt(phrases: Sequence[str] = ()) -> PocketsphinxSTTService:
    return PocketsphinxSTTService(
        model=load_pocketsphinx_model(), phrases=phrases, sample_rate=PHONE_RATE
    )


async def transcripts(service: PocketsphinxSTTService, audio: bytes) -> list[TranscriptionFrame]:
    frames = [frame async for frame in service.run_stt(audio)]
    assert all(isinstance(frame, TranscriptionFrame) for frame in frames)
    return [frame for frame in frames if isinstance(frame, TranscriptionFrame)]


@pytest.mark.parametrize("phrase", ["yes please", "cancel the order", "tomorrow"])
async def test_grammar_recognises_each_node_phrase_exactly(say: Say, phrase: str) -> None:
    [frame] = await transcripts(stt(NODE_PHRASES), segment(say(phrase)))

    assert frame.text == phrase
    assert frame.user_id == "customer"
    assert frame.language == Language.EN_US
    assert datetime.fromisoformat(frame.timestamp).tzinfo is not None


async def test_free_language_model_hears_the_gist(say: Say) -> None:
    service = stt()

    [yes] = await transcripts(service, segment(say("yes please")))
    [cancel] = await transcripts(service, segment(say("cancel the order")))

    assert "yes" in yes.text.split()
    assert "order" in cancel.text.split()


async def test_speech_outside_the_grammar_falls_back_to_the_free_model(say: Say) -> None:
    [frame] = await transcripts(stt(NODE_PHRASES), segment(say("what is the price of shipping")))

    assert frame.text not in NODE_PHRASES
    assert {"price", "shipping"} <= set(frame.text.split())


async def test_set_phrases_switches_between_grammar_and_free_model(say: Say) -> None:
    service = stt()
    audio = segment(say("cancel the order"))
    [free] = await transcripts(service, audio)

    service.set_phrases(NODE_PHRASES)
    [narrowed] = await transcripts(service, audio)
    service.set_phrases([])
    [free_again] = await transcripts(service, audio)

    assert narrowed.text == "cancel the order"
    assert free_again.text == free.text  # decoding does not depend on what came before
    assert service.phrases == frozenset()


def test_repeated_phrase_sets_reuse_their_compiled_grammar() -> None:
    model = load_pocketsphinx_model()

    first = model.grammar(["Yes, please!", "tomorrow"])

    assert first is model.grammar(["tomorrow", "yes please"])
    assert first is not None
    assert first.phrases == {"yes please", "tomorrow"}


def test_words_missing_from_the_dictionary_are_left_out(caplog: pytest.LogCaptureFixture) -> None:
    service = stt()

    with caplog.at_level(logging.INFO, logger="calls.voice.speech.pocketsphinx_stt"):
        service.set_phrases(["cancel the zorblaxian order", "qwxzzt"])

    assert service.phrases == {"cancel the order"}
    assert "'zorblaxian' is not in the dictionary" in caplog.text
    assert "'qwxzzt' is not in the dictionary" in caplog.text


def test_phrases_with_no_known_word_mean_the_free_model() -> None:
    service = stt(["qwxzzt"])

    assert service.phrases == frozenset()


async def test_silence_gives_no_transcript() -> None:
    assert await transcripts(stt(NODE_PHRASES), segment(b"")) == []


def frames_of(pcm: bytes) -> list[InputAudioRawFrame]:
    step = PHONE_RATE // 50 * 2  # 20 ms of 16-bit mono
    return [
        InputAudioRawFrame(audio=pcm[i : i + step], sample_rate=PHONE_RATE, num_channels=1)
        for i in range(0, len(pcm) - step + 1, step)
    ]


async def test_in_a_pipeline_silero_vad_delimits_one_segment_and_one_transcript(
    say: Say,
) -> None:
    vad = VADProcessor(vad_analyzer=SileroVADAnalyzer(params=VADParams(stop_secs=0.8)))
    audio = silence(0.6) + say("cancel the order") + silence(1.2)

    down, _ = await run_test(
        Pipeline([vad, stt(NODE_PHRASES)]),
        frames_to_send=frames_of(audio),
        pipeline_params=PipelineParams(audio_in_sample_rate=PHONE_RATE, enable_metrics=True),
    )

    kinds = [type(frame) for frame in down]
    transcribed = [frame for frame in down if isinstance(frame, TranscriptionFrame)]
    processing = [
        data
        for frame in down
        if isinstance(frame, MetricsFrame)
        for data in frame.data
        if isinstance(data, ProcessingMetricsData) and data.model == "pocketsphinx-en-us"
    ]
    assert kinds.count(VADUserStartedSpeakingFrame) == 1
    assert kinds.count(VADUserStoppedSpeakingFrame) == 1
    assert [frame.text for frame in transcribed] == ["cancel the order"]
    assert transcribed[0].finalized
    assert len(processing) == 1
    assert 0 < processing[0].value < 5
