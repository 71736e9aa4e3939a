from __future__ import annotations

from typing import Any

import pytest

from telephony.providers.simulator.persona import PERSONAS, Persona, Step, persona_from_dict

DEMOS = {
    "cod-confirm": ["yes please"],
    "cod-cancel": ["please cancel it", "I found it cheaper elsewhere"],
    "cod-reschedule": ["not today", "tomorrow"],
    "cod-human": ["can I speak to a person"],
    "cod-silent": [],
    "cod-hangup": [],
    "cart-buy": ["yes I will buy it"],
    "cart-not-interested": ["no thanks", "too expensive"],
    "cart-later": ["call me later", "at five pm"],
    "cart-stop": ["stop calling me"],
    "address-ok": ["yes that is correct"],
    "address-fix": ["no", "fourteen hill street pune"],
    "address-wrong-person": ["wrong number"],
    "barge-in": ["yes please"],
}


def valid() -> dict[str, Any]:
    return {
        "name": "custom",
        "description": "Presses 1 then says thanks.",
        "steps": [{"dtmf": "1"}, {"silence_ms": 500, "wait_for_bot": False}, {"say": "thanks"}],
        "max_call_seconds": 30,
        "bot_turn_silence_ms": 600,
    }


def test_loads_a_valid_persona() -> None:
    persona = persona_from_dict(valid())
    assert persona == Persona(
        name="custom",
        description="Presses 1 then says thanks.",
        steps=(Step(dtmf="1"), Step(silence_ms=500, wait_for_bot=False), Step(say="thanks")),
        max_call_seconds=30.0,
        bot_turn_silence_ms=600,
    )
    assert [step.kind for step in persona.steps] == ["dtmf", "silence", "say"]


def test_defaults() -> None:
    persona = persona_from_dict({"name": "quiet", "steps": []})
    assert (persona.description, persona.max_call_seconds, persona.bot_turn_silence_ms) == (
        "",
        90,
        700,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Has Spaces"}, "name: must be lowercase"),
        ({"name": 7}, "name: expected a string"),
        ({"steps": "say hi"}, "steps: expected a list"),
        ({"steps": ["hi"]}, r"steps\[0\]: expected an object"),
        ({"steps": [{"say": "hi", "hang_up": True}]}, r"steps\[0\]: .*found: say, hang_up"),
        ({"steps": [{"barge_in": True}]}, r"steps\[0\]: .*found: none"),
        ({"steps": [{"say": ""}]}, r"steps\[0\]\.say: must be non-empty"),
        ({"steps": [{"say": 3}]}, r"steps\[0\]\.say: expected a string"),
        (
            {"steps": [{"say": "a"}, {"silence_ms": "5"}]},
            r"steps\[1\]\.silence_ms: expected an integer",
        ),
        ({"steps": [{"silence_ms": True}]}, r"steps\[0\]\.silence_ms: expected an integer"),
        ({"steps": [{"silence_ms": 0}]}, r"steps\[0\]\.silence_ms: must be a positive"),
        ({"steps": [{"dtmf": "12x"}]}, r"steps\[0\]\.dtmf: must be"),
        (
            {"steps": [{"say": "a", "barge_in": "yes"}]},
            r"steps\[0\]\.barge_in: expected true or false",
        ),
        ({"steps": [{"say": "a", "shout": True}]}, r"steps\[0\]\.shout: unknown field"),
        ({"max_call_seconds": 0}, "max_call_seconds: must be positive"),
        ({"max_call_seconds": "90"}, "max_call_seconds: expected a number"),
        ({"bot_turn_silence_ms": 0.5}, "bot_turn_silence_ms: expected an integer"),
        ({"voice": "joe"}, "voice: unknown field"),
    ],
)
def test_validation_errors_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        persona_from_dict(valid() | change)


def test_rejects_data_that_is_not_an_object() -> None:
    with pytest.raises(ValueError, match="persona: expected an object"):
        persona_from_dict(["cod-confirm"])


def test_missing_fields_are_named() -> None:
    with pytest.raises(ValueError, match="steps: required"):
        persona_from_dict({"name": "x"})
    with pytest.raises(ValueError, match="name: required"):
        persona_from_dict({"steps": []})


def test_registry_covers_the_demo_conversations() -> None:
    assert {name: list(persona.lines) for name, persona in PERSONAS.items()} == DEMOS


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_registered_personas_are_valid_and_load_from_their_own_data(name: str) -> None:
    persona = PERSONAS[name]
    assert persona.name == name
    data = {
        "name": persona.name,
        "description": persona.description,
        "steps": [
            {key: value for key, value in vars(step).items() if value is not None}
            for step in persona.steps
        ],
        "max_call_seconds": persona.max_call_seconds,
        "bot_turn_silence_ms": persona.bot_turn_silence_ms,
    }
    assert persona_from_dict(data) == persona


def test_special_personas() -> None:
    assert PERSONAS["barge-in"].steps == (
        Step(say="yes please", barge_in=True, wait_for_bot=False),
    )
    assert PERSONAS["cod-hangup"].steps == (Step(hang_up=True, barge_in=True, wait_for_bot=False),)
    assert PERSONAS["cod-silent"].steps == (
        Step(silence_ms=25_000),
        Step(hang_up=True, wait_for_bot=False),
    )
    # Every other persona waits for the bot before each step.
    ordinary = [p for n, p in PERSONAS.items() if n not in {"barge-in", "cod-hangup", "cod-silent"}]
    assert all(step.wait_for_bot and not step.barge_in for p in ordinary for step in p.steps)
