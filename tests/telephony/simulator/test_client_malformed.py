from __future__ import annotations

from telephony.providers.simulator.audio import synthesize
from telephony.providers.simulator.persona import PERSONAS
from tests.telephony.simulator.fakebot import STREAM_SID, BotSession, fake_bot, place_call

SPEED = 4.0


async def test_malformed_messages_are_recorded_and_the_call_goes_on() -> None:
    question, thanks = synthesize("Shall we deliver it?"), synthesize("Thank you. Goodbye.")

    async def bot(session: BotSession) -> None:
        await session.ws.send("this is not json")
        await session.ws.send(b"\x00\x01binary")
        await session.ws.send("[1, 2]")
        await session.send({"event": "dance", "streamSid": STREAM_SID})
        for _ in range(3):
            bad = {"event": "media", "streamSid": STREAM_SID, "media": {"payload": "@@!"}}
            await session.send(bad)
        await session.send({"event": "media", "streamSid": STREAM_SID, "media": {}})
        await session.send({"event": "mark", "streamSid": STREAM_SID, "mark": {}})
        await session.send({"event": "clear", "streamSid": "MZsomeoneelse"})
        await session.speak(question)
        await session.customer_speech()
        await session.speak(thanks)

    async with fake_bot(bot, speed=SPEED) as server:
        result = await place_call(server, PERSONAS["cod-confirm"], speed=SPEED)

    assert server.session.failures == []
    problems = [error.split(": ", 1)[1] for error in result.errors]
    assert problems == [
        "not JSON: 'this is not json'",
        "binary frame of 8 bytes: Twilio only takes JSON text",
        "not a JSON object: '[1, 2]'",
        "unknown event 'dance'",
        "media payload is not base64: '@@!' (x3)",
        "media without media.payload",
        "mark without mark.name",
        "clear with streamSid 'MZsomeoneelse'",
    ]
    assert result.hung_up_by == "bot"
    assert [turn.text for turn in result.customer_turns] == ["yes please"]
    assert len(result.bot_turns) == 2
    assert len(result.response_latencies_ms) == 1
    assert result.cleared == 1
