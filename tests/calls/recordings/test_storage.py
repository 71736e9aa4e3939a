"""Recordings land in the recordings storage: a local folder by default, an S3 bucket by settings."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest
from django.conf import LazySettings
from django.test import Client
from moto.server import ThreadedMotoServer

from breeze.settings.integrations.recordings import recordings_storage
from calls.models import Call
from calls.recordings.links import recording_link
from calls.recordings.models import Recording, RecordingRetention
from calls.recordings.services import recording_store, recordings_delete_expired
from calls.recordings.storage import WAV, WavBuilder
from tests.calls.recordings.conftest import store_wav, wav_bytes

pytestmark = pytest.mark.django_db

BUCKET = "breeze-recordings"


def test_a_recording_is_stored_under_the_merchant_in_the_local_folder(
    call: Call, recordings_root: Path
) -> None:
    recording = store_wav(call, seconds=1.5)

    path = recordings_root / recording.storage_name
    assert path.read_bytes() == wav_bytes(seconds=1.5)
    assert recording.storage_name.startswith(f"{call.merchant_id}/call-{call.pk}-")
    assert recording.storage_name.endswith(".wav")
    assert (recording.status, recording.source, recording.content_type) == (
        Recording.Status.STORED,
        Recording.Source.WORKER,
        WAV,
    )
    assert (recording.size_bytes, recording.duration_seconds) == (path.stat().st_size, 1.5)
    assert recording.expires_at - recording.created_at == pytest.approx(
        timedelta(days=90), abs=timedelta(seconds=1)
    )


def test_retention_of_the_merchant_sets_the_expiry(call: Call) -> None:
    RecordingRetention.objects.create(merchant_id=call.merchant_id, days=7)

    recording = store_wav(call)

    assert recording.expires_at - recording.created_at == pytest.approx(
        timedelta(days=7), abs=timedelta(seconds=1)
    )


def test_a_second_recording_of_a_call_is_dropped_with_its_file(
    call: Call, recordings_root: Path
) -> None:
    first = store_wav(call, seconds=1.0)

    second = store_wav(call, seconds=2.0)

    assert second.pk == first.pk
    files = [path.relative_to(recordings_root) for path in recordings_root.rglob("*.wav")]
    assert [str(name) for name in files] == [first.storage_name]


def test_the_wav_builder_writes_a_mono_8_khz_wav_of_the_pcm_given() -> None:
    builder = WavBuilder(sample_rate=8000)
    builder.write(b"\x01\x00" * 4000)
    builder.write(b"\x02\x00" * 12000)

    with builder.finish() as content, wave.open(content, "rb") as wav:
        assert builder.duration_seconds == 2.0
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.readframes(16000) == b"\x01\x00" * 4000 + b"\x02\x00" * 12000


@pytest.fixture
def s3_bucket(settings: LazySettings) -> Iterator[str]:
    """A local S3-compatible server (moto) with one bucket; recordings configured to use it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"access_key": "test-key", "secret_key": "test-secret"}
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["access_key"],
        aws_secret_access_key=credentials["secret_key"],
    ).create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": recordings_storage(
            bucket=BUCKET, root="", endpoint_url=endpoint, region="us-east-1", **credentials
        ),
    }
    try:
        yield endpoint
    finally:
        server.stop()


def test_an_s3_bucket_holds_serves_and_expires_the_recording_when_configured(
    call: Call, s3_bucket: str
) -> None:
    recording = recording_store(
        call_id=call.pk,
        source=Recording.Source.WORKER,
        content=io.BytesIO(wav_bytes(seconds=0.5)),
        content_type=WAV,
        duration_seconds=0.5,
    )

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_bucket,
        region_name="us-east-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    key = f"recordings/{recording.storage_name}"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == wav_bytes(seconds=0.5)
    assert recording.size_bytes == len(wav_bytes(seconds=0.5))
    link = recording_link(recording_id=recording.pk, ttl_seconds=60)
    served = Client().get(link.url.removeprefix("http://127.0.0.1:9"))
    assert b"".join(served.streaming_content) == wav_bytes(seconds=0.5)  # type: ignore[attr-defined]

    assert recordings_delete_expired(now=recording.expires_at) == 1
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
