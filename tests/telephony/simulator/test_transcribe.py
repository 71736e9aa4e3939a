from __future__ import annotations

import asyncio

import pytest

from telephony.providers.simulator.audio import synthesize
from telephony.providers.simulator.client import SimulatorResult, transcribe_bot_turns
from telephony.providers.simulator.persona import Persona
from tests.telephony.simulator.fakebot import BotSession, fake_bot, place_call

SPEED = 4.0
LISTENER = Persona("listener", "Listens and says nothing.", ())


@pytest.fixture(scope="module")
def goodbye_call() -> SimulatorResult:
    audio = synthesize("Thank you. Goodbye.")

    async def bot(session: BotSession) -> None:
        await session.speak(audio)
        await asyncio.sleep(0.2 / SPEED)

    async def call() -> SimulatorResult:
        async with fake_bot(bot, speed=SPEED) as server:
            result = await place_call(server, LISTENER, speed=SPEED)
        assert server.session.failures == []
        return result

    return asyncio.run(call())


def test_free_language_model_hears_goodbye(goodbye_call: SimulatorResult) -> None:
    (heard,) = transcribe_bot_turns(goodbye_call)
    assert "goodbye" in heard.split()
    # Decoding is independent of what the decoder heard before.
    transcribe_bot_turns(goodbye_call, phrases=["sorry"])
    assert transcribe_bot_turns(goodbye_call) == [heard]


def test_phrase_grammar_is_exact(goodbye_call: SimulatorResult) -> None:
    phrases = ["thank you goodbye", "shall we deliver your order", "sorry"]
    assert transcribe_bot_turns(goodbye_call, phrases=phrases) == ["thank you goodbye"]


def test_a_turn_may_hold_several_phrases(goodbye_call: SimulatorResult) -> None:
    assert transcribe_bot_turns(goodbye_call, phrases=["goodbye", "thank you"]) == [
        "thank you goodbye"
    ]


def test_unknown_grammar_words_are_named(goodbye_call: SimulatorResult) -> None:
    with pytest.raises(ValueError, match="xyzzyq"):
        transcribe_bot_turns(goodbye_call, phrases=["thank you xyzzyq"])
