"""The simulator's Plivo and Exotel dialects: the shapes those providers send and accept."""

from __future__ import annotations

import base64

from telephony.providers.simulator.protocols import Exotel, Plivo, StreamIds

IDS = StreamIds(account_sid="AC1", call_sid="CA1", stream_sid="MZ1")


def test_plivo_numbers_messages_and_carries_custom_data_in_extra_headers() -> None:
    plivo = Plivo(IDS)

    (start,) = [plivo.numbered(m) for m in plivo.opening({"call_id": "7", "token": "t"})]
    media = plivo.numbered(plivo.media(bytes(320), chunk=1, timestamp_ms=20))

    assert start["sequenceNumber"] == 1
    assert start["extra_headers"] == "call_id=7;token=t"
    assert (start["start"]["callId"], start["start"]["streamId"]) == ("CA1", "MZ1")
    assert media["sequenceNumber"] == 2
    assert base64.b64decode(media["media"]["payload"]) == b"\xff" * 160
    assert plivo.stop() is None


def test_exotel_refuses_bot_chunks_of_the_wrong_size() -> None:
    exotel = Exotel(IDS)

    assert exotel.audio(bytes(1600), {}) == (bytes(1600), None)
    assert exotel.audio(bytes(640), {})[1] == (
        "media chunk of 640 bytes: Exotel takes ≥1600 in multiples of 320"
    )
    assert exotel.audio(bytes(1700), {})[1] is not None
    assert exotel.numbered(exotel.dtmf("5"))["sequence_number"] == "1"
