"""Offline speech recognition with pocketsphinx 5.1, the default when no STT vendor is set.

The bundled en-US model only works at 16 kHz (a retuned 8 kHz front end measured 87-100%
WER), so each phone-rate segment is upsampled first. With its free language model it gets
roughly two words in three right on phone audio; a node that expects known answers can
narrow it to those phrases with `set_phrases`, which makes them exact.

Phrase mode is a JSGF grammar: the phrases, or else a loop over common English words that
absorbs anything else (without it, any speech is forced onto the nearest phrase, and "I want
to talk about my bill" came out as "cancel the order"). When the loop wins, the segment is
decoded again with the free language model, so an answer outside the phrases still gives a
best-effort transcript rather than a wrong phrase.

A segment arrives with up to a second of lead-in (the VAD's pre-roll) and over a second of
tail (VAD stop delay plus padding); decoded as is, exact phrases fell from 13/14 to 7/14 and
exact free-LM sentences from 13/20 to 2/20 on joe-voice phone audio, so the silence around
the speech is cut to 0.1 s first. Measured with a 14-phrase grammar on phone audio: 13/14
phrases exact ("confirm" alone is lost to the loop), and other speech taken for a phrase in
0/10 utterances, 1/10 with line noise added.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import threading
import time
import wave
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import numpy as np
from pocketsphinx import Decoder  # type: ignore[import-untyped]

from calls.voice.speech.exceptions import SpeechServerError
from templates_app.pipecat_compat import (
    Frame,
    Language,
    SegmentedSTTService,
    STTSettings,
    TranscriptionFrame,
    create_file_resampler,
    time_now_iso8601,
)

logger = logging.getLogger(__name__)

MODEL_RATE = 16000
MODEL_NAME = "pocketsphinx-en-us"
USER_ID = "customer"
_TOKEN = re.compile(r"[\w']+")
_FRAME_SECS = 0.01
_KEEP_SECS = 0.1  # silence kept either side; 0.05-0.3 s measured about the same
_QUIET_DB = 40.0  # a 10 ms frame this far below the segment's loudest one is silence

# Function words that can tile almost any utterance. The loop's weight is tiny so a phrase
# that fits wins; measured on 14 phrases and 15 other utterances at 8 kHz: 13/14 phrases
# exact, 14/15 others rejected (weights from 1 to 1e-4 lost "tomorrow" to the loop).
_GARBAGE_WEIGHT = "0.00001"
_GARBAGE_WORDS = (
    "a about all also and any are as at be because but by can come could day do even find "
    "first for from get give go have he help her here him his how i if in into it its just "
    "know like look make me more my new no not now of on one only or other our out over "
    "people right say see she so some sure take tell than that the their them then there "
    "these they thing think this time to two up us use very want way we well what when which "
    "who will with would year you your"
)


@dataclass(frozen=True)
class Grammar:
    """A compiled phrase grammar: its decoder search name and the transcripts it accepts."""

    search: str
    phrases: frozenset[str]


def phrase_key(phrases: Sequence[str]) -> tuple[str, ...]:
    """The phrases as the decoder sees them: lower-case words, each phrase once, sorted."""
    return tuple(sorted({" ".join(_TOKEN.findall(p.lower())) for p in phrases} - {""}))


class Recognizer(Protocol):
    """A pocketsphinx model: this process's own, or the shared speech server's."""

    def grammar(self, phrases: Sequence[str]) -> Grammar | None: ...

    def decode(self, pcm: bytes, grammar: Grammar | None) -> str: ...


class PocketsphinxModel:
    """The process's one decoder: the bundled model, its free LM and the phrase grammars.

    A worker process serves one call, so the 0.3 s load happens once, at warm-up. The lock
    serialises decodes and grammar builds from several services (tests build many).
    """

    def __init__(self, decoder: Any) -> None:
        self._decoder = decoder
        self._lock = threading.Lock()
        self._grammars: dict[tuple[str, ...], Grammar | None] = {}
        self._garbage = [word for word in _GARBAGE_WORDS.split() if decoder.lookup_word(word)]

    def grammar(self, phrases: Sequence[str]) -> Grammar | None:
        """Compile (once per phrase set) the grammar for `phrases`; None means free LM."""
        key = phrase_key(phrases)
        if not key:
            return None
        with self._lock:
            if key not in self._grammars:
                self._grammars[key] = self._compile(key)
            return self._grammars[key]

    def decode(self, pcm: bytes, grammar: Grammar | None) -> str:
        """Transcribe 16 kHz mono 16-bit PCM, with `grammar` if given, else the free LM."""
        with self._lock:
            if grammar is not None:
                text = self._run(pcm, grammar.search)
                if text in grammar.phrases:
                    return text
            return self._run(pcm, None)

    def _run(self, pcm: bytes, search: str | None) -> str:
        decoder = self._decoder
        decoder.activate_search(search)
        # Noise and cepstral-mean estimates otherwise carry over between utterances, which
        # made the same audio decode differently depending on what came before it.
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        return str(hypothesis.hypstr).strip() if hypothesis is not None else ""

    def _compile(self, phrases: tuple[str, ...]) -> Grammar | None:
        kept: set[str] = set()
        for phrase in phrases:
            known = []
            for word in phrase.split():
                if self._decoder.lookup_word(word):
                    known.append(word)
                else:
                    logger.info("pocketsphinx: %r is not in the dictionary; left out", word)
            if known:
                kept.add(" ".join(known))
        if not kept:
            return None
        search = f"phrases{len(self._grammars)}"
        alternatives = " | ".join(f"( {phrase} )" for phrase in sorted(kept))
        jsgf = (
            f"#JSGF V1.0; grammar {search};\n"
            f"public <utterance> = /1/ <phrase> | /{_GARBAGE_WEIGHT}/ <garbage>;\n"
            f"<phrase> = {alternatives};\n"
            f"<garbage> = <word>+;\n"
            f"<word> = {' | '.join(self._garbage)};\n"
        )
        config = self._decoder.config
        # The lattice pass (bestpath) on a grammar with a word loop took 2-20 s per utterance;
        # the config is read when a search is created, so the free LM keeps it.
        config["bestpath"] = False
        try:
            self._decoder.add_jsgf_string(search, jsgf)
        except (ValueError, RuntimeError):
            # Tokens are dictionary words, so this is not expected; a call carries on freely.
            logger.exception("pocketsphinx: grammar for %s rejected; free LM instead", phrases)
            return None
        finally:
            config["bestpath"] = True
        return Grammar(search=search, phrases=frozenset(kept))


@cache
def load_pocketsphinx_model() -> PocketsphinxModel:
    """Load the bundled en-US model once per process (about 0.3 s)."""
    started = time.perf_counter()
    # logfn silences the C library's per-utterance INFO chatter on stderr.
    model = PocketsphinxModel(Decoder(samprate=MODEL_RATE, logfn="/dev/null"))
    logger.info("pocketsphinx model loaded in %.2fs", time.perf_counter() - started)
    return model


class PocketsphinxSTTService(SegmentedSTTService):
    """Segmented STT on pocketsphinx: one VAD-delimited segment in, one transcript out."""

    def __init__(
        self,
        *,
        model: Recognizer,
        phrases: Sequence[str] = (),
        sample_rate: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            sample_rate=sample_rate,
            settings=STTSettings(model=MODEL_NAME, language=Language.EN_US),
            **kwargs,
        )
        self._model = model
        self._grammar = model.grammar(phrases)
        self._resampler = create_file_resampler()

    @property
    def phrases(self) -> frozenset[str]:
        """The transcripts the current grammar accepts; empty in free-LM mode."""
        return self._grammar.phrases if self._grammar is not None else frozenset()

    def set_phrases(self, phrases: Sequence[str]) -> None:
        """Recognise these phrases exactly from the next segment on; [] means free speech.

        A new phrase set compiles in a few milliseconds, a repeated one is reused.
        """
        self._grammar = self._model.grammar(phrases)

    def can_generate_metrics(self) -> bool:
        return True

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        pcm, rate = _pcm(audio)
        await self.start_processing_metrics()
        upsampled = await self._resampler.resample(_trim_silence(pcm, rate), rate, MODEL_RATE)
        # pocketsphinx holds the GIL while it decodes, so the thread mostly keeps the decode
        # off the loop's own call stack; the loop still pauses for the decode's length.
        try:
            text = await asyncio.to_thread(self._model.decode, upsampled, self._grammar)
        except SpeechServerError:
            # The turn is lost as if nothing was heard; the call goes on (user-idle prompts).
            logger.exception("pocketsphinx: the speech server failed this segment")
            text = ""
        await self.stop_processing_metrics()
        if text:
            yield TranscriptionFrame(text, USER_ID, time_now_iso8601(), Language.EN_US)


def _pcm(wav: bytes) -> tuple[bytes, int]:
    """The samples and rate of a segment, which SegmentedSTTService wraps as mono 16-bit WAV."""
    with wave.open(io.BytesIO(wav), "rb") as segment:
        return segment.readframes(segment.getnframes()), segment.getframerate()


def _trim_silence(pcm: bytes, rate: int) -> bytes:
    """`pcm` without the silence before and after its speech, bar `_KEEP_SECS` either side."""
    frame = int(rate * _FRAME_SECS)
    count = len(pcm) // 2 // frame
    if count == 0:
        return pcm
    samples = np.frombuffer(pcm, dtype=np.int16, count=count * frame).astype(np.float64)
    energy = (samples.reshape(count, frame) ** 2).mean(axis=1)
    loud = np.flatnonzero(energy > energy.max() * 10 ** (-_QUIET_DB / 10))
    if loud.size == 0:
        return pcm
    keep = int(_KEEP_SECS / _FRAME_SECS)
    start = max(0, int(loud[0]) - keep) * frame * 2
    end = min(count, int(loud[-1]) + 1 + keep) * frame * 2
    return pcm[start:end]
