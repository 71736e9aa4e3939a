"""The recordings storage (`STORAGES["recordings"]`) and the files Breeze writes into it."""

from __future__ import annotations

import secrets
import tempfile
import wave
from typing import IO

from django.core.files.storage import Storage, storages

WAV = "audio/wav"
EXTENSIONS = {WAV: "wav", "audio/mpeg": "mp3"}


def recordings_storage() -> Storage:
    return storages["recordings"]


def recording_file_name(*, merchant_id: int, call_id: int, content_type: str) -> str:
    """Where a call's recording goes: by merchant, with a random part nobody can guess."""
    extension = EXTENSIONS.get(content_type, "bin")
    return f"{merchant_id}/call-{call_id}-{secrets.token_hex(8)}.{extension}"


class WavBuilder:
    """Writes 16-bit PCM into a WAV temporary file as it arrives, so a long call stays on disk."""

    def __init__(self, *, sample_rate: int, channels: int = 1) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  (returned by finish)
        self._wav = wave.open(self._file, "wb")  # noqa: SIM115  (closed in finish)
        self._wav.setnchannels(channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)
        self.frames = 0

    def write(self, pcm: bytes) -> None:
        self._wav.writeframes(pcm)
        self.frames += len(pcm) // (2 * self.channels)

    @property
    def duration_seconds(self) -> float:
        return self.frames / self.sample_rate

    def finish(self) -> IO[bytes]:
        """The finished WAV file, rewound; the caller closes it."""
        self._wav.close()
        self._file.seek(0)
        return self._file


def wav_duration_seconds(content: IO[bytes]) -> float | None:
    """A WAV file's length from its header, or None when it is not a WAV file; rewinds."""
    try:
        with wave.open(content, "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (wave.Error, EOFError):
        return None
    finally:
        content.seek(0)
