"""The worker's relay transport: provider messages in, frames out; bad messages dropped."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

from calls.voice.transport import RelayTransport, paced
from templates_app.pipecat_compat import (
    Frame,
    FrameDirection,
    FrameProcessor,
    InputAudioRawFrame,
    InputDTMFFrame,
    Pipeline,
    PipelineParams,
    PipelineWorker,
    TransportParams,
    TwilioFrameSerializer,
    WorkerRunner,
)


class Collect(FrameProcessor):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        self.frames.append(frame)
        await self.push_frame(frame, direction)


def _media(payload: str, sequence: int | None = None) -> str:
    numbered = {} if sequence is None else {"sequenceNumber": str(sequence)}
    return json.dumps(
        {
            "event": "media",
            **numbered,
            "streamSid": "MZ1",
            "media": {"track": "inbound", "chunk": "1", "timestamp": "0", "payload": payload},
        }
    )


async def _received(
    messages: list[str | None], *, quiet: Callable[[], bool] | None = None
) -> list[Frame]:
    """The frames the relay's input transport pushes for these provider messages."""
    inbound: asyncio.Queue[str | None] = asyncio.Queue()
    sent: list[str | bytes] = []

    async def send(payload: str | bytes) -> None:
        sent.append(payload)

    transport = RelayTransport(
        TransportParams(audio_in_enabled=True, audio_in_sample_rate=8000),
        inbound=inbound,
        send=send,
        serializer=TwilioFrameSerializer(
            "MZ1", params=TwilioFrameSerializer.InputParams(auto_hang_up=False)
        ),
        quiet=quiet,
    )
    collect = Collect()
    worker = PipelineWorker(
        Pipeline([transport.input(), collect]),
        params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000),
        idle_timeout_secs=None,
        enable_rtvi=False,
    )
    for message in messages:
        inbound.put_nowait(message)
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)

    await asyncio.wait_for(runner.run(), timeout=10)
    return collect.frames


def _dtmf(digit: str) -> str:
    return json.dumps(
        {"event": "dtmf", "streamSid": "MZ1", "dtmf": {"track": "inbound_track", "digit": digit}}
    )


GOOD = base64.b64encode(b"\xff" * 160).decode()


async def test_malformed_messages_are_dropped_and_the_call_goes_on() -> None:
    good = GOOD
    louder = base64.b64encode(b"\x80" * 160).decode()
    frames = await _received(
        [
            "not json at all",
            json.dumps({"event": "mystery"}),
            _media("%%% not base64 %%%"),
            _media(good),
            _media(good, sequence=4),
            _media(louder, sequence=3),  # arrived late: dropped
            _media(louder, sequence=4),  # a repeat: dropped
            _media(good, sequence=5),
            "x" * 70_000,  # oversize garbage the relay let through
            _dtmf("5"),
            None,  # the customer hung up
        ]
    )

    audio = [frame for frame in frames if isinstance(frame, InputAudioRawFrame)]
    digits = [frame.button.value for frame in frames if isinstance(frame, InputDTMFFrame)]
    assert [(len(frame.audio), frame.sample_rate) for frame in audio] == [(320, 8000)] * 3
    # Only the in-order frames, all near-silent μ-law 0xFF, were played.
    assert {frame.audio for frame in audio} == {bytes(320)}
    assert digits == ["5"]


async def test_audio_and_keypad_presses_keep_their_order() -> None:
    frames = await _received(
        [_media(GOOD, sequence=1), _dtmf("1"), _media(GOOD, sequence=2), _dtmf("2"), None]
    )

    assert [
        frame.button.value if isinstance(frame, InputDTMFFrame) else "audio"
        for frame in frames
        if isinstance(frame, InputAudioRawFrame | InputDTMFFrame)
    ] == ["audio", "1", "audio", "2"]


def _pushed(frames: list[Frame]) -> list[str]:
    """Audio frames by their length in ms, keypad presses by their key."""
    return [
        frame.button.value if isinstance(frame, InputDTMFFrame) else f"{len(frame.audio) // 16}ms"
        for frame in frames
        if isinstance(frame, InputAudioRawFrame | InputDTMFFrame)
    ]


async def test_a_quiet_lines_audio_goes_on_60_ms_at_a_time_in_order() -> None:
    media = [_media(GOOD, sequence=n) for n in range(1, 9)]

    frames = await _received([*media[:4], _dtmf("7"), *media[4:], None], quiet=lambda: True)

    # Held audio goes on before a keypad press and before the end of the stream.
    assert _pushed(frames) == ["60ms", "20ms", "7", "60ms", "20ms"]
    audio = b"".join(frame.audio for frame in frames if isinstance(frame, InputAudioRawFrame))
    assert audio == bytes(320 * 8)


async def test_audio_goes_on_frame_by_frame_once_the_customer_may_be_speaking() -> None:
    quiet = iter([True, True, False, False, True])

    frames = await _received(
        [*(_media(GOOD, sequence=n) for n in range(1, 6)), None], quiet=lambda: next(quiet)
    )

    assert _pushed(frames) == ["40ms", "20ms", "20ms", "20ms"]


def test_bot_audio_keeps_its_schedule_through_a_short_stall() -> None:
    interval, due, sent = 0.02, 0.0, []
    # Frames are written at these times: on time, then a 50 ms stall before the fourth.
    now = 10.0
    for stall in [0, 0, 0, 0.05, 0, 0, 0, 0]:
        now += stall
        sent.append(round(now, 3))
        delay, due = paced(now=now, due=due, interval=interval)
        now += delay

    # The first frame leads; after the stall the overdue frames go at once and the rest
    # are back on the answer's 20 ms slots.
    assert sent == [10.0, 10.0, 10.02, 10.09, 10.09, 10.09, 10.1, 10.12]


def test_a_long_stall_or_a_new_answer_starts_a_new_schedule() -> None:
    assert paced(now=10.0, due=9.85, interval=0.02) == (0.0, 10.02)
    assert paced(now=10.0, due=0.0, interval=0.02) == (0.0, 10.02)


async def test_a_frame_with_sound_in_it_is_never_held() -> None:
    loud = base64.b64encode(b"\x80" * 160).decode()  # μ-law full scale
    faint = base64.b64encode(b"\xfe" * 160).decode()  # μ-law's smallest step above silence
    media = [_media(GOOD, 1), _media(loud, 2), _media(faint, 3), _media(GOOD, 4), None]

    frames = await _received(media, quiet=lambda: True)

    # The silence before it goes on first; the faint and silent frames after it are held.
    assert _pushed(frames) == ["20ms", "20ms", "40ms"]
