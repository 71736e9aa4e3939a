"""The shared speech server against models in the worker: one request, and several at once.

Run: .venv/bin/python bench/speech_server.py [--rounds 10] [--concurrent 4]

Starts `manage.py run_speech_server` as its own process and measures, per request, a
transcription (a 16 kHz phrase as a call's STT hands it over, with the node's phrase
grammar) and a synthesis (one sentence) through it, against the same models loaded in this
process, in the same run. Then `--concurrent` clients (threads, as that many calls' workers
would be) ask at once, which shows the server's queue: pocketsphinx has one decoder, and
Piper's phonemizer runs one at a time while its inference runs on every core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.test")

PHRASES = ["yes please", "cancel the order", "tomorrow", "no thanks", "talk to an agent"]
SENTENCE = "Thank you! Your order will be delivered as planned. Goodbye."


def _ms(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def _row(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    return (
        f"{name:<40} median {statistics.median(ordered):7.1f} ms   "
        f"max {ordered[-1]:7.1f} ms   (n={len(ordered)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=4)
    arguments = parser.parse_args()

    import django

    django.setup()
    import numpy as np
    import soxr  # type: ignore[import-untyped]

    from calls.voice.speech.piper_voice import load_joe_voice
    from calls.voice.speech.pocketsphinx_stt import load_pocketsphinx_model
    from calls.voice.speech.shared.client import (
        RemoteRecognizer,
        RemoteVoice,
        SpeechServerClient,
        speech_server_answers,
    )
    from telephony.providers.simulator.audio import synthesize

    phone = np.frombuffer(synthesize("cancel the order"), dtype="<i2")
    pcm = soxr.resample(phone, 8000, 16000).astype(np.int16).tobytes()
    local_recognizer, local_voice = load_pocketsphinx_model(), load_joe_voice()
    grammar = local_recognizer.grammar(PHRASES)

    path = str(Path(tempfile.mkdtemp(prefix="bench-speech-")) / "speech.sock")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "run_speech_server", "--socket", path],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not speech_server_answers(path):
            time.sleep(0.05)
        client = SpeechServerClient(path)
        recognizer, voice = RemoteRecognizer(client), RemoteVoice(client)
        remote_grammar = recognizer.grammar(PHRASES)
        assert recognizer.decode(pcm, remote_grammar) == "cancel the order"

        def transcribe_here() -> None:
            local_recognizer.decode(pcm, grammar)

        def transcribe_there() -> None:
            recognizer.decode(pcm, remote_grammar)

        def speak_here() -> None:
            list(local_voice.synthesize(SENTENCE))

        def speak_there() -> None:
            list(voice.synthesize(SENTENCE))

        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
        for name, function in [
            ("transcribe, in this process", transcribe_here),
            ("transcribe, through the speech server", transcribe_there),
            ("synthesize, in this process", speak_here),
            ("synthesize, through the speech server", speak_there),
        ]:
            function()  # warm
            print(_row(name, [_ms(function) for _ in range(arguments.rounds)]), flush=True)

        n = arguments.concurrent
        with ThreadPoolExecutor(max_workers=n) as pool:
            for name, function in [
                (f"transcribe, {n} at once via server", transcribe_there),
                (f"synthesize, {n} at once via server", speak_there),
            ]:
                times: list[float] = []
                for _ in range(arguments.rounds):
                    times += list(pool.map(_ms, [function] * n))
                print(_row(name, times), flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
