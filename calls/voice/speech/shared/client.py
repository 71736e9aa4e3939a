"""A call worker's side of the speech server: the offline models, as the services use them.

`RemoteRecognizer` stands in for `PocketsphinxModel` and `RemoteVoice` for `PiperVoice`;
both block, as the originals do, and the services already call them off the event loop.
Connections are reused one request at a time, so a transcription and a synthesis in the
same call (a barge-in) run side by side.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from calls.voice.speech.exceptions import SpeechServerError
from calls.voice.speech.pocketsphinx_stt import Grammar, phrase_key
from calls.voice.speech.shared.protocol import ProtocolError, receive_message, send_message

# A decode of a long segment under load takes seconds; a server silent for this long is
# taken for dead, and the call's turn fails instead of hanging.
TIMEOUT_SECONDS = 30.0

Message = tuple[dict[str, Any], bytes]


class SpeechServerClient:
    def __init__(self, path: str) -> None:
        self.path = path
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def request(self, header: dict[str, Any], body: bytes = b"") -> Message:
        with self._exchange(header, body) as (reply, _sock):
            return reply

    def stream(self, header: dict[str, Any]) -> Iterator[bytes]:
        """The bodies of a run of `chunk` replies, up to its `done`."""
        with self._exchange(header, b"") as (first, sock):
            reply = first
            while not reply[0].get("done"):
                yield reply[1]
                reply = self._checked(self._receive(sock))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()

    @contextmanager
    def _exchange(
        self, header: dict[str, Any], body: bytes
    ) -> Iterator[tuple[Message, socket.socket]]:
        if os.getpid() != self._pid:
            # Forked (a pool worker from its supervisor): the inherited connections are the
            # parent's conversations, so this process closes its copies and opens its own.
            self._pid = os.getpid()
            self.close()
        with self._lock:
            sock = self._idle.pop() if self._idle else None
        reply = None
        if sock is not None:
            try:
                reply = self._attempt(sock, header, body)
            except SpeechServerError:
                # Perhaps a connection to an earlier server, as its siblings would be: a
                # request is a pure function of its input, so it is asked again anew.
                self.close()
        if sock is None or reply is None:
            sock = self._connect()
            reply = self._attempt(sock, header, body)
        try:
            yield self._checked(reply), sock
        except BaseException:
            # Mid-reply (an error, or a synthesis abandoned by a barge-in): out of step.
            sock.close()
            raise
        with self._lock:
            self._idle.append(sock)

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT_SECONDS)
        try:
            sock.connect(self.path)
        except OSError as error:
            sock.close()
            raise SpeechServerError(f"speech server at {self.path}: {error}") from error
        return sock

    def _attempt(self, sock: socket.socket, header: dict[str, Any], body: bytes) -> Message:
        """Send a request and read the first reply; a socket that failed either is closed."""
        try:
            send_message(sock, header, body)
            return self._receive(sock)
        except OSError as error:
            sock.close()
            raise SpeechServerError(f"speech server at {self.path}: {error}") from error
        except SpeechServerError:
            sock.close()
            raise

    def _receive(self, sock: socket.socket) -> Message:
        try:
            message = receive_message(sock)
        except (OSError, ProtocolError) as error:
            raise SpeechServerError(f"speech server at {self.path}: {error}") from error
        if message is None:
            raise SpeechServerError(f"speech server at {self.path} closed the connection")
        return message

    @staticmethod
    def _checked(message: Message) -> Message:
        if "error" in message[0]:
            raise SpeechServerError(str(message[0]["error"]))
        return message


def speech_server_answers(path: str) -> bool:
    client = SpeechServerClient(path)
    try:
        client.request({"op": "hello"})
    except SpeechServerError:
        return False
    finally:
        client.close()
    return True


class RemoteRecognizer:
    """pocketsphinx in the speech server, with `PocketsphinxModel`'s two methods."""

    def __init__(self, client: SpeechServerClient) -> None:
        self._client = client

    def grammar(self, phrases: Sequence[str]) -> Grammar | None:
        # Compiled by the server on first use; words missing from its dictionary are left
        # out there, so `phrases` here may name a word the decoder never returns.
        key = phrase_key(phrases)
        return Grammar(search="remote", phrases=frozenset(key)) if key else None

    def decode(self, pcm: bytes, grammar: Grammar | None) -> str:
        phrases = sorted(grammar.phrases) if grammar is not None else []
        header, _ = self._client.request({"op": "transcribe", "phrases": phrases}, pcm)
        return str(header["text"])


@dataclass(frozen=True)
class VoiceConfig:
    sample_rate: int


@dataclass(frozen=True)
class AudioChunk:
    audio_int16_bytes: bytes


class RemoteVoice:
    """The Piper voice in the speech server, with what Pipecat's Piper service uses of it."""

    def __init__(self, client: SpeechServerClient) -> None:
        self._client = client

    @cached_property
    def config(self) -> VoiceConfig:
        # Asked on first use, in the call: the supervisor builds this while preloading and
        # must not depend on the server answering at that moment.
        header, _ = self._client.request({"op": "hello"})
        return VoiceConfig(sample_rate=int(header["sample_rate"]))

    def synthesize(self, text: str) -> Generator[AudioChunk]:
        for audio in self._client.stream({"op": "synthesize", "text": text}):
            yield AudioChunk(audio)
