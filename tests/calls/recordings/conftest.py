from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from django.conf import LazySettings

from breeze.settings.integrations.recordings import recordings_storage
from calls.models import Call
from calls.recordings.models import Recording
from calls.recordings.services import recording_store
from calls.recordings.storage import WAV


def wav_bytes(*, seconds: float, sample_rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of a rising ramp (not silence, so a mixed-up file would show)."""
    frames = int(seconds * sample_rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(b"".join((i % 30000).to_bytes(2, "little") for i in range(frames)))
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def recordings_root(settings: LazySettings, tmp_path: Path) -> Path:
    """Recordings go to this test's own folder, through the default (filesystem) backend."""
    root = tmp_path / "recordings"
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": recordings_storage(bucket="", root=str(root)),
    }
    return root


def store_wav(call: Call, *, seconds: float = 1.5) -> Recording:
    return recording_store(
        call_id=call.pk,
        source=Recording.Source.WORKER,
        content=io.BytesIO(wav_bytes(seconds=seconds)),
        content_type=WAV,
        duration_seconds=seconds,
    )
