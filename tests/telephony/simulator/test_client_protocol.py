"""A whole call against a strict fake bot: the shapes Twilio sends, in the order it sends them."""

from __future__ import annotations

import asyncio

from telephony.providers.simulator.audio import duration_s, synthesize
from telephony.providers.simulator.persona import PERSONAS, Persona, Step
from tests.telephony.simulator.fakebot import BotSession, fake_bot, place_call

SPEED = 4.0
QUESTION = "Hi Asha, this is Breeze. Shall we deliver your order today?"
THANKS = "Thank you, your order is confirmed. Goodbye."


async def test_a_confirming_customer_talks_twilio_media_streams() -> None:
    # Synthesize up front: a Piper call inside the fake would count as bot thinking time.
    question_audio, thanks_audio = synthesize(QUESTION), synthesize(THANKS)
    prompt_sent: list[float] = []

    async def bot(session: BotSession) -> None:
        prompt_sent.append(await session.speak(question_audio))
        await session.mark("question")
        await session.customer_speech()
        await session.speak(thanks_audio)

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(server, PERSONAS["cod-confirm"], speed=SPEED)

    session = server.session
    assert session.failures == []
    assert result.errors == []
    assert result.hung_up_by == "bot"
    # The echo waits for the audio queued before the mark to play out at real-time rate.
    echo_after = session.mark_echoes["question"] - prompt_sent[0]
    assert echo_after >= duration_s(question_audio) / SPEED * 0.98
    assert result.marks_echoed == 1
    assert [event for _, kind, event in result.events if kind == "sent"][-1]["event"] == "mark"

    question, thanks = result.bot_turns
    assert abs((question.end - question.start) - duration_s(question_audio)) < 0.1
    assert (thanks.end - thanks.start) > 0.9 * duration_s(thanks_audio)
    (answer,) = result.customer_turns
    assert answer.text == "yes please"
    # The customer waits out the bot's turn-end silence before answering.
    assert question.end + 0.7 - 0.02 <= answer.start < question.end + 0.9
    assert answer.end <= thanks.start
    (latency,) = result.response_latencies_ms
    assert latency == answer.response_latency_ms
    # The fake replies after 400 ms of quiet, part of which is Piper's trailing pause.
    assert 0 < latency < 700
    assert len(result.bot_audio) >= len(question.pcm) + len(thanks.pcm)
    assert session.media_frames >= result.duration_s / 0.02 - 5


async def test_marks_wait_for_audio_sent_faster_than_real_time() -> None:
    prompt = synthesize(QUESTION)

    async def bot(session: BotSession) -> None:
        sent = await session.speak(prompt, paced=False)
        await session.mark("burst")
        await session.customer_speech()
        assert session.mark_echoes["burst"] - sent >= duration_s(prompt) / SPEED * 0.98

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(server, PERSONAS["cod-confirm"], speed=SPEED)

    assert server.session.failures == []
    (turn,) = result.bot_turns
    # The turn is the audio's playback, not its arrival.
    assert abs((turn.end - turn.start) - duration_s(prompt)) < 0.05
    # Speech starts in the 20 ms frame being captured when the turn end is noticed.
    assert result.customer_turns[0].start >= turn.end + 0.7 - 0.02


async def test_dtmf_steps_send_one_event_per_key() -> None:
    persona = Persona("keys", "Presses 1, 2 and #.", (Step(dtmf="12#"),))

    async def bot(session: BotSession) -> None:
        await session.speak(synthesize("Press one."))
        await session.keys(3)

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(server, persona, speed=SPEED)

    assert server.session.failures == []
    assert server.session.dtmf == ["1", "2", "#"]
    digits = [e["dtmf"]["digit"] for _, kind, e in result.events if e.get("event") == "dtmf"]
    assert digits == ["1", "2", "#"]


async def test_an_early_hang_up_sends_stop() -> None:
    async def bot(session: BotSession) -> None:
        await session.speak(synthesize(QUESTION))

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(server, PERSONAS["cod-hangup"], speed=SPEED)

    session = server.session
    assert session.failures == []
    assert result.hung_up_by == "customer"
    assert session.stop is not None
    assert session.received[-1][1] is session.stop
    (greeting,) = result.bot_turns
    # Hung up about 300 ms into the greeting; what was not played was not heard.
    assert 0.28 <= greeting.end - greeting.start <= 0.4
    assert len(greeting.pcm) < len(result.bot_audio)


async def test_the_provider_ending_the_line_stops_the_stream() -> None:
    """A REST hang-up or transfer: the provider sends `stop` and closes, mid-conversation."""
    line_ended = asyncio.Event()

    async def bot(session: BotSession) -> None:
        await session.speak(synthesize(QUESTION))
        line_ended.set()
        await session.ws.wait_closed()

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(
            server, PERSONAS["cod-confirm"], speed=SPEED, line_ended=line_ended
        )

    session = server.session
    assert session.failures == []
    assert result.hung_up_by == "provider"
    assert session.stop is not None
    assert session.received[-1][1] is session.stop
    assert result.customer_turns == []


async def test_a_silent_bot_times_out() -> None:
    persona = Persona("patient", "Waits for a bot that never speaks.", (), max_call_seconds=2)

    async def bot(session: BotSession) -> None:
        await session.ws.wait_closed()

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(server, persona, speed=SPEED)

    assert server.session.failures == []
    assert result.hung_up_by == "timeout"
    assert server.session.stop is not None
    assert 2.0 <= result.duration_s < 2.2
    assert result.bot_turns == []


async def test_a_silent_customer_hangs_up_after_its_silence() -> None:
    persona = Persona(
        "quiet",
        "Listens, stays silent, hangs up.",
        (Step(silence_ms=1000), Step(hang_up=True, wait_for_bot=False)),
    )
    prompt = synthesize("Hello?")

    async def bot(session: BotSession) -> None:
        await session.speak(prompt)
        await session.ws.wait_closed()

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(server, persona, speed=SPEED)

    assert server.session.failures == []
    assert result.hung_up_by == "customer"
    assert server.session.stop is not None
    assert result.customer_turns == []
    (turn,) = result.bot_turns
    # Silence starts once the turn is over (700 ms after playback ends) and lasts 1 s.
    assert turn.end + 1.7 <= result.duration_s < turn.end + 1.8
