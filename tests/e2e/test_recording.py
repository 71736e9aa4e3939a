"""The voice worker records a real simulated call: both sides, mixed, mono 8 kHz, in storage."""

from __future__ import annotations

import asyncio
import copy
import math
import wave
from array import array
from pathlib import Path

import pytest
from django.conf import LazySettings

from breeze.settings.integrations.recordings import recordings_storage
from calls.models import Turn
from calls.recordings.models import Recording
from telephony.providers.simulator.persona import PERSONAS
from templates_app.models import Template
from templates_app.services import template_load_demos
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS
from tests.e2e.conftest import Stack, new_call, place, published_template

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


@pytest.fixture
def recordings_root(
    monkeypatch: pytest.MonkeyPatch, settings: LazySettings, tmp_path: Path
) -> Path:
    """One folder for the worker processes (by environment) and this test (by settings)."""
    root = tmp_path / "recordings"
    monkeypatch.setenv("BREEZE_RECORDINGS_ROOT", str(root))
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": recordings_storage(bucket="", root=str(root)),
    }
    return root


@pytest.fixture
def recording_stack(recordings_root: Path, stack: Stack) -> Stack:
    return stack


def _loudness(frames: bytes, start_ms: int) -> int:
    """RMS of the 100 ms from `start_ms` (8 kHz, 16-bit: 16 bytes per ms)."""
    samples = array("h", frames[start_ms * 16 : (start_ms + 100) * 16])
    return round(math.sqrt(sum(s * s for s in samples) / len(samples))) if samples else 0


def test_a_call_with_recording_on_is_recorded_by_the_worker(
    recording_stack: Stack, recordings_root: Path, tenants: Tenants
) -> None:
    template_load_demos(merchant=tenants.acme)
    demo = Template.objects.get(merchant=tenants.acme, slug="order-confirmation").versions.get()
    definition = copy.deepcopy(demo.definition)
    definition.setdefault("execution", {})["recording"] = "worker"
    version = published_template(tenants.acme, "recorded-order", definition)
    call = new_call(version, payload=DEMO_PAYLOADS["order-confirmation"])

    ended, result = asyncio.run(place(recording_stack, call, PERSONAS["cod-confirm"]))

    assert result.errors == []
    assert ended.outcome == "confirmed"
    recording = Recording.objects.get(call=ended)
    assert (recording.status, recording.source, recording.content_type) == (
        Recording.Status.STORED,
        Recording.Source.WORKER,
        "audio/wav",
    )
    with wave.open(str(recordings_root / recording.storage_name), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        frames = wav.readframes(wav.getnframes())
        seconds = wav.getnframes() / 8000
    assert recording.duration_seconds == round(seconds, 3)
    assert ended.duration_seconds is not None
    assert abs(seconds - ended.duration_seconds) < 2.0
    # The bot is heard while it speaks, and the customer (the only other voice) outside that.
    bot = [
        (turn.started_offset_ms, turn.ended_offset_ms)
        for turn in Turn.objects.filter(call=ended, speaker="bot")
        if turn.started_offset_ms is not None and turn.ended_offset_ms is not None
    ]
    assert bot
    loud = {ms for ms in range(0, int(seconds * 1000) - 100, 100) if _loudness(frames, ms) > 300}
    during_bot = {ms for ms in loud if any(start <= ms < end for start, end in bot)}
    assert len(during_bot) >= 10, (bot, sorted(loud))
    # The customer only says "yes please" (about 0.8 s); a loaded machine stamps the bot
    # turn's end late, so some of it may count as the bot's. Half a second is still speech.
    assert len(loud - during_bot) >= 5, (bot, sorted(loud))
