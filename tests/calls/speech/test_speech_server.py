"""The shared speech server, as a real process, and the call worker's client of it."""

from __future__ import annotations

import logging
import os
import re
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from calls.voice.speech import registry
from calls.voice.speech.exceptions import SpeechServerError
from calls.voice.speech.pocketsphinx_stt import PocketsphinxSTTService, load_pocketsphinx_model
from calls.voice.speech.shared import client as client_module
from calls.voice.speech.shared.client import (
    RemoteRecognizer,
    RemoteVoice,
    SpeechServerClient,
    speech_server_answers,
)
from templates_app.pipecat_compat import TTSAudioRawFrame, TTSSpeakFrame, pcm_to_wav, run_test
from tests.calls.speech.conftest import PHONE_RATE, silence
from tests.calls.speech.test_pocketsphinx_stt import NODE_PHRASES, transcripts
from tests.processes import subprocess_env, wait_for

ROOT = Path(__file__).resolve().parents[3]
Say = Callable[[str], bytes]
TWO_SENTENCES = "Your order is on its way. It will reach you tomorrow."


def _start(path: Path, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_speech_server", "--socket", str(path)],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for(
        lambda: True if speech_server_answers(str(path)) else None,
        timeout=60,
        what="the speech server",
        log=log,
    )
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("speech")
    path, log = directory / "speech.sock", directory / "speech.log"
    process = _start(path, log)
    yield path, log
    _stop(process)


@pytest.fixture
def client(server: tuple[Path, Path]) -> Iterator[SpeechServerClient]:
    connection = SpeechServerClient(str(server[0]))
    yield connection
    connection.close()


def _segment(speech: bytes) -> bytes:
    return pcm_to_wav(silence(1.0) + speech + silence(1.3), PHONE_RATE)


async def test_the_servers_pocketsphinx_hears_what_this_processes_own_hears(
    client: SpeechServerClient, say: Say
) -> None:
    remote = PocketsphinxSTTService(
        model=RemoteRecognizer(client), phrases=NODE_PHRASES, sample_rate=PHONE_RATE
    )
    free = PocketsphinxSTTService(model=RemoteRecognizer(client), sample_rate=PHONE_RATE)
    local = PocketsphinxSTTService(model=load_pocketsphinx_model(), sample_rate=PHONE_RATE)
    sentence = _segment(say("I would like to change the delivery address"))

    [phrase] = await transcripts(remote, _segment(say("cancel the order")))
    [heard] = await transcripts(free, sentence)
    [heard_here] = await transcripts(local, sentence)

    assert phrase.text == "cancel the order"
    assert heard.text == heard_here.text
    assert remote.phrases == frozenset(NODE_PHRASES)


async def test_the_servers_piper_speaks_each_sentence_at_the_phone_rate(
    client: SpeechServerClient,
) -> None:
    voice = RemoteVoice(client)
    chunks = list(voice.synthesize(TWO_SENTENCES))
    tts = registry._WarmPiperTTSService(voice=voice, sample_rate=PHONE_RATE)

    down, _ = await run_test(tts, frames_to_send=[TTSSpeakFrame("Hello there")])

    assert voice.config.sample_rate == 22050
    assert len(chunks) == 2
    audio = [frame for frame in down if isinstance(frame, TTSAudioRawFrame)]
    assert {frame.sample_rate for frame in audio} == {PHONE_RATE}
    assert 0.4 <= sum(len(frame.audio) for frame in audio) / 2 / PHONE_RATE <= 2.0


def test_the_registry_uses_the_server_named_in_the_environment(
    server: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(registry.SPEECH_SERVER_ENV, str(server[0]))
    cached = (registry._speech_server, registry._recognizer, registry._joe_voice)
    for function in cached:
        function.cache_clear()
    try:
        stt = registry.build_stt({}, credentials={}, sample_rate=PHONE_RATE)
        tts = registry.build_tts({}, credentials={}, sample_rate=PHONE_RATE)
        assert isinstance(stt, PocketsphinxSTTService)
        assert isinstance(stt._model, RemoteRecognizer)
        assert isinstance(tts, registry._WarmPiperTTSService)
        voice: object = tts._voice  # typed as Pipecat's PiperVoice
        assert isinstance(voice, RemoteVoice)
    finally:
        for function in cached:
            function.cache_clear()


def test_a_bad_request_is_answered_with_an_error_and_the_connection_kept(
    client: SpeechServerClient,
) -> None:
    with pytest.raises(SpeechServerError, match="unknown op 'sing'"):
        client.request({"op": "sing"})
    with pytest.raises(SpeechServerError, match="phrases must be a list of strings"):
        client.request({"op": "transcribe", "phrases": "yes"}, b"\0\0")
    with pytest.raises(SpeechServerError, match="synthesize needs text, a string"):
        list(client.stream({"op": "synthesize", "text": 42}))

    assert client.request({"op": "hello"})[0] == {"sample_rate": 22050}


def test_a_connection_sending_garbage_is_dropped_and_others_are_served(
    client: SpeechServerClient, server: tuple[Path, Path]
) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as rogue:
        rogue.connect(str(server[0]))
        rogue.sendall(struct.pack(">II", 100_000, 0))
        rogue.settimeout(10)
        closed = rogue.recv(1)

    assert closed == b""
    assert client.request({"op": "hello"})[0] == {"sample_rate": 22050}
    assert "connection dropped: message of 100000 + 0 bytes refused" in server[1].read_text()


def test_a_synthesis_abandoned_midway_leaves_the_client_in_step(
    client: SpeechServerClient,
) -> None:
    voice = RemoteVoice(client)
    speech = voice.synthesize(TWO_SENTENCES)
    next(speech)
    speech.close()  # what a barge-in does to Pipecat's iterator

    assert client.request({"op": "hello"})[0] == {"sample_rate": 22050}
    assert len(list(voice.synthesize(TWO_SENTENCES))) == 2


def test_a_restarted_server_is_reached_on_a_new_connection(tmp_path: Path) -> None:
    path, log = tmp_path / "speech.sock", tmp_path / "speech.log"
    client = SpeechServerClient(str(path))
    process = _start(path, log)
    try:
        client.request({"op": "hello"})
        _stop(process)
        with pytest.raises(SpeechServerError, match=rf"speech server at {re.escape(str(path))}"):
            client.request({"op": "hello"})
        process = _start(path, log)

        assert client.request({"op": "hello"})[0] == {"sample_rate": 22050}
    finally:
        _stop(process)
        client.close()


async def test_a_segment_the_server_cannot_decode_is_a_lost_turn_not_a_failed_call(
    tmp_path: Path, say: Say, caplog: pytest.LogCaptureFixture
) -> None:
    gone = SpeechServerClient(str(tmp_path / "nobody.sock"))
    service = PocketsphinxSTTService(model=RemoteRecognizer(gone), sample_rate=PHONE_RATE)

    with caplog.at_level(logging.ERROR):
        heard = await transcripts(service, _segment(say("yes please")))

    assert heard == []
    assert "the speech server failed this segment" in caplog.text


def test_a_forked_child_opens_its_own_connection(client: SpeechServerClient) -> None:
    client.request({"op": "hello"})
    [inherited] = client._idle
    pid = os.fork()
    if pid == 0:
        # The child must not talk on the parent's conversation: a new socket of its own.
        code = 1
        try:
            client.request({"op": "hello"})
            code = 0 if client._idle and client._idle[0] is not inherited else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert client._idle == [inherited]
    assert client.request({"op": "hello"})[0] == {"sample_rate": 22050}


def test_a_server_that_never_answers_is_an_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "TIMEOUT_SECONDS", 0.2)
    path = str(tmp_path / "silent.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(path)
        silent.listen()  # connections queue; nothing ever reads or answers them
        client = SpeechServerClient(path)

        with pytest.raises(SpeechServerError, match=r"silent\.sock: timed out"):
            client.request({"op": "hello"})

    assert client._idle == []
