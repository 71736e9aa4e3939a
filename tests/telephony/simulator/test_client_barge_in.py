from __future__ import annotations

import asyncio

from telephony.providers.simulator.audio import duration_s, synthesize
from telephony.providers.simulator.persona import PERSONAS
from tests.telephony.simulator.fakebot import BotSession, fake_bot, place_call

SPEED = 4.0
LONG_PROMPT = (
    "Hi Asha, this is Breeze calling on behalf of Acme Retail. "
    "I am calling about your cash on delivery order of one thousand four hundred rupees. "
    "Shall we go ahead and deliver it tomorrow morning?"
)
REPLY = "Great, it is confirmed."


async def test_barge_in_talks_over_the_bot_and_the_bot_clears() -> None:
    prompt, reply = synthesize(LONG_PROMPT), synthesize(REPLY)

    async def bot(session: BotSession) -> None:
        # Sent faster than real time, as a TTS would, so most of it sits in the playback
        # buffer when the customer interrupts.
        await session.speak(prompt, paced=False)
        await session.mark("prompt")
        await asyncio.wait_for(session.speech_started.wait(), 15)
        await session.clear()
        await session.customer_speech()
        await session.speak(reply)

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(server, PERSONAS["barge-in"], speed=SPEED)

    session = server.session
    assert session.failures == []
    assert result.errors == []
    assert result.cleared == 1
    # The cleared mark is echoed at the clear, long before its audio would have played.
    assert result.marks_echoed == 1
    assert session.mark_echoes["prompt"] - session.speech_started_at < 0.5 / SPEED

    interrupted, answer = result.bot_turns
    (barge,) = result.customer_turns
    assert barge.text == "yes please"
    assert barge.start < interrupted.end
    assert 0.28 <= barge.start - interrupted.start <= 0.4
    assert interrupted.interrupted
    assert not answer.interrupted
    # What was heard stops at the clear; everything sent is still in bot_audio.
    assert duration_s(interrupted.pcm) < duration_s(prompt) / 2
    assert abs(duration_s(interrupted.pcm) - (interrupted.end - interrupted.start)) < 0.05
    assert len(result.bot_audio) >= len(prompt) + len(answer.pcm)
    (latency,) = result.response_latencies_ms
    assert 0 < latency < 700
