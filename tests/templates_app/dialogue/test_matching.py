from __future__ import annotations

import pytest

from templates_app.dialogue.matching import FunctionSpec, Match, choose_function, normalize

FUNCTIONS = (
    FunctionSpec("confirm_order", examples=("yes", "confirm", "confirm my order")),
    FunctionSpec("cancel_order", examples=("cancel", "cancel my order")),
    FunctionSpec("keep_order", examples=("keep it", "no", "do not cancel")),
)


@pytest.mark.parametrize(
    ("_case", "text", "expected"),
    [
        ("punctuation and case", "No, DON'T  cancel!", "no do not cancel"),
        ("curly apostrophe", "It\u2019s fine", "it is fine"),
        ("pronoun am", "I'm sure", "i am sure"),
        ("irregular negation", "I won't, I can't", "i will not i can not"),
        ("missing apostrophe", "dont", "do not"),
        ("hyphen splits words", "twenty-five", "twenty five"),
        ("outer whitespace", "  yes   please \n", "yes please"),
        ("nothing but punctuation", "?!", ""),
    ],
)
def test_normalize(_case: str, text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("_case", "text", "expected"),
    [
        ("example inside a longer answer", "yes please", Match("confirm_order", 0.875, {})),
        ("negated cancel goes to keep", "no, don't cancel it", Match("keep_order", 0.9, {})),
        ("clause break ends the negation", "no, cancel it", Match("cancel_order", 0.8333, {})),
        ("no problem is no negation", "no problem confirm it", Match("confirm_order", 0.8125, {})),
        ("longest example wins", "cancel my order", Match("cancel_order", 1.0, {})),
        ("misheard longer words", "cancell my ordr", Match("cancel_order", 1.0, {})),
        ("words out of order", "my order, cancel it", Match("cancel_order", 0.8875, {})),
        ("exact single word", "Confirm.", Match("confirm_order", 1.0, {})),
    ],
)
def test_choose_function_picks_best_example(_case: str, text: str, expected: Match) -> None:
    assert choose_function(text, FUNCTIONS) == expected


@pytest.mark.parametrize(
    ("_case", "text"),
    [
        ("gibberish", "asdf qwerty zxcv"),
        ("empty", ""),
        ("blank", "   "),
        ("punctuation only", "?!"),
        ("negated with no alternative", "I don't want to confirm"),
        ("short words must match exactly", "now"),
        ("unrelated sentence", "what is the weather like"),
    ],
)
def test_choose_function_finds_nothing(_case: str, text: str) -> None:
    assert choose_function(text, FUNCTIONS) is None


def test_choose_function_breaks_ties_by_order() -> None:
    first = FunctionSpec("first", examples=("yes",))
    second = FunctionSpec("second", examples=("yes",))

    assert choose_function("yes", [second, first]) == Match("second", 1.0, {})


def test_choose_function_never_picks_a_function_without_examples() -> None:
    bare = FunctionSpec("cancel_order", description="cancel")

    assert choose_function("cancel order", [bare]) is None


def test_choose_function_applies_the_threshold() -> None:
    assert choose_function("yes please", FUNCTIONS, threshold=0.9) is None
    assert choose_function("yes please", FUNCTIONS, threshold=0.875) == Match(
        "confirm_order", 0.875, {}
    )


def test_a_wildcard_function_takes_what_nothing_else_matched() -> None:
    functions = [
        FunctionSpec(name="repeat", examples=("say that again", "repeat")),
        FunctionSpec(name="record_reason", examples=("*",)),
    ]

    assert choose_function("it arrived too late for the party", functions) == Match(
        function="record_reason", score=0.6, arguments={}
    )
    assert choose_function("can you repeat", functions).function == "repeat"  # type: ignore[union-attr]
    assert choose_function("", functions) is None


KEYPAD = (
    FunctionSpec("anything", examples=("*",)),
    FunctionSpec("confirm_order", examples=("yes",), dtmf="1"),
    FunctionSpec("agent", examples=("one two",), dtmf="12#"),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DTMF: 1", Match(function="confirm_order", score=1.0, arguments={})),
        ("DTMF: 12#", Match(function="agent", score=1.0, arguments={})),
        ("DTMF: 2", None),
        ("one two", Match(function="agent", score=1.0, arguments={})),
    ],
)
def test_keypad_presses_call_the_function_with_those_keys(text: str, expected: Match) -> None:
    assert choose_function(text, KEYPAD) == expected
