"""One process that holds the offline speech models for every call worker on the host.

pocketsphinx's model and the Piper voice take about 160 MB of memory, and a forked worker's
RSS counts all of it though the pages are shared: loaded once here, the workers hold only
a socket (docs/adr/0002-shared-speech-server.md). Each worker connection gets a thread;
Piper's inference runs in ONNX Runtime with the GIL released, so two calls' speech is
synthesised at once on two cores, while pocketsphinx's decoder is one per process and
serialises its decodes (its lock).
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from piper import PiperVoice

from calls.voice.speech.piper_voice import load_joe_voice
from calls.voice.speech.pocketsphinx_stt import PocketsphinxModel, load_pocketsphinx_model
from calls.voice.speech.shared.protocol import ProtocolError, receive_message, send_message

logger = logging.getLogger(__name__)


class BadRequestError(Exception):
    """A request the server cannot act on; answered with an error, the connection kept."""


class OfflineSpeech:
    """The loaded models and what each request asks of them."""

    def __init__(self, *, recognizer: PocketsphinxModel, voice: PiperVoice) -> None:
        self.recognizer = recognizer
        self.voice = voice
        # espeak-ng, which Piper phonemizes with, keeps global state and is not thread-safe;
        # only this step is serialised, the (longer) inference is not.
        phonemize = voice.phonemize
        lock = threading.Lock()

        def locked_phonemize(text: str) -> list[list[str]]:
            with lock:
                return phonemize(text)

        voice.phonemize = locked_phonemize  # type: ignore[method-assign]

    @classmethod
    def load(cls) -> OfflineSpeech:
        started = time.perf_counter()
        speech = cls(recognizer=load_pocketsphinx_model(), voice=load_joe_voice())
        logger.info("speech server: models loaded in %.2fs", time.perf_counter() - started)
        return speech

    def answer(self, sock: socket.socket, header: dict[str, Any], body: bytes) -> None:
        op = header.get("op")
        if op == "hello":
            send_message(sock, {"sample_rate": self.voice.config.sample_rate})
        elif op == "transcribe":
            grammar = self.recognizer.grammar(_texts(header, "phrases"))
            send_message(sock, {"text": self.recognizer.decode(body, grammar)})
        elif op == "synthesize":
            text = header.get("text")
            if not isinstance(text, str):
                raise BadRequestError("synthesize needs text, a string")
            for chunk in self.voice.synthesize(text):
                send_message(sock, {"chunk": True}, chunk.audio_int16_bytes)
            send_message(sock, {"done": True})
        else:
            raise BadRequestError(f"unknown op {op!r}")


def _texts(header: dict[str, Any], name: str) -> list[str]:
    value = header.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequestError(f"{name} must be a list of strings")
    return value


class _Connection(socketserver.BaseRequestHandler):
    server: SpeechServer
    request: socket.socket

    def handle(self) -> None:
        while True:
            try:
                message = receive_message(self.request)
            except (ProtocolError, OSError) as error:
                logger.warning("speech server: connection dropped: %s", error)
                return
            if message is None:
                return
            header, body = message
            try:
                self.server.speech.answer(self.request, header, body)
            except BadRequestError as error:
                logger.warning("speech server: bad request: %s", error)
                send_message(self.request, {"error": str(error)})
            except OSError as error:
                # The worker left mid-reply: its call ended or its speech was interrupted.
                logger.info("speech server: client gone mid-reply: %s", error)
                return
            except Exception as error:
                logger.exception("speech server: %s failed", header.get("op"))
                send_message(self.request, {"error": f"{type(error).__name__}: {error}"})


class SpeechServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, speech: OfflineSpeech) -> None:
        self.speech = speech
        super().__init__(path, _Connection)


def serve(path: str, *, on_ready: Callable[[], None] | None = None) -> None:
    """Load the models and answer workers on the Unix socket at `path` until stopped."""
    speech = OfflineSpeech.load()
    Path(path).unlink(missing_ok=True)
    with SpeechServer(path, speech) as server:
        logger.info("speech server: listening on %s", path)
        if on_ready is not None:
            on_ready()
        server.serve_forever()
