"""What each 20 ms frame goes through: the customer's audio stops after the user aggregator
unless the worker records the call, and only the call's own recorder observes frames."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from calls.selectors import call_context_load
from calls.voice.pipeline import CustomerAudioStop
from calls.voice.speech import registry
from templates_app.demo import demo_definition
from templates_app.pipecat_compat import (
    InputAudioRawFrame,
    LLMUserAggregator,
    Pipeline,
    TextFrame,
    TranscriptionFrame,
    run_test,
)
from tests.calls.voice.sessions import relay_session
from tests.conftest import Tenants
from tests.e2e.conftest import new_call, published_template


async def test_audio_is_dropped_and_every_other_frame_goes_on() -> None:
    frames = [
        InputAudioRawFrame(audio=bytes(320), sample_rate=8000, num_channels=1),
        TranscriptionFrame(text="yes", user_id="", timestamp="t"),
        InputAudioRawFrame(audio=bytes(320), sample_rate=8000, num_channels=1),
        TextFrame(text="next"),
    ]

    down, up = await run_test(CustomerAudioStop(), frames_to_send=frames)

    assert [type(frame) for frame in down] == [TranscriptionFrame, TextFrame]
    assert [getattr(frame, "text", None) for frame in down] == ["yes", "next"]
    assert list(up) == []


@pytest.mark.parametrize(("recording", "stopped"), [("off", True), ("worker", False)])
@pytest.mark.django_db
def test_the_stop_follows_the_user_aggregator_only_when_nothing_records(
    tenants: Tenants, recording: str, stopped: bool
) -> None:
    definition: dict[str, Any] = copy.deepcopy(demo_definition("order-confirmation"))
    definition["execution"] = {**definition.get("execution", {}), "recording": recording}
    version = published_template(tenants.acme, f"recorded-{recording}", definition)
    call = new_call(
        version, payload={"customer_name": "Asha", "order_id": "A1", "order_total": "10"}
    )
    registry.warm_up()
    session = relay_session(call_context_load(call_id=call.pk)).session
    pipeline = session.worker.pipeline
    assert isinstance(pipeline, Pipeline)
    # The worker wraps the call's pipeline between its own source and sink.
    (call_pipeline,) = [each for each in pipeline.processors if isinstance(each, Pipeline)]
    processors = call_pipeline.processors
    user = next(i for i, each in enumerate(processors) if isinstance(each, LLMUserAggregator))

    assert isinstance(processors[user + 1], CustomerAudioStop) is stopped
    assert sum(isinstance(each, CustomerAudioStop) for each in processors) == int(stopped)
    assert (session.audio_recording is None) is stopped
    assert session.worker.turn_tracking_observer is None
    if session.audio_recording is not None:
        # Nothing was recorded, so this only closes the temporary file.
        asyncio.run(session.audio_recording.store(call_id=call.pk))
