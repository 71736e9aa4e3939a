"""The offline extractor: which customer turn answers which field, and the value read from it."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from calls.extraction.rules import TranscriptTurn, rules_extract
from templates_app.definition.extraction import ExtractionField

# A Wednesday.
AT = datetime(2026, 11, 25, 10, 15, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata"))


def _turns(*lines: tuple[str, str]) -> list[TranscriptTurn]:
    return [TranscriptTurn(speaker=speaker, text=text, at=AT) for speaker, text in lines]


CALL = _turns(
    ("bot", "Shall we go ahead and deliver your order?"),
    ("customer", "No, please cancel it."),
    ("bot", "May I ask why you are cancelling?"),
    ("customer", "It is too expensive for me."),
    ("bot", "Would you like a discount code by SMS?"),
    ("customer", "Yes please."),
    ("bot", "How many items should we keep for you?"),
    ("customer", "Keep two of them."),
    ("bot", "When can we call you back?"),
    ("customer", "Call me on friday at 5 pm"),
)


def test_each_field_is_read_from_the_turn_that_answers_it() -> None:
    fields = [
        ExtractionField("wants_discount", "boolean", "Whether the customer wants a discount code"),
        ExtractionField("cancel_reason", "string", "Why the customer is cancelling"),
        ExtractionField(
            "reason_kind", "string", "The kind of reason", ("price", "too_expensive", "late")
        ),
        ExtractionField("items_kept", "integer", "How many items to keep"),
        ExtractionField("callback_date", "date", "When to call the customer back"),
        ExtractionField("callback_time", "time", "What time to call back"),
    ]

    assert rules_extract(fields, CALL) == {
        "wants_discount": True,
        "cancel_reason": "It is too expensive for me.",
        "reason_kind": "too_expensive",
        "items_kept": 2,
        "callback_date": "2026-11-27",
        "callback_time": "17:00",
    }


def test_a_field_no_turn_answers_stays_empty_rather_than_guessed() -> None:
    fields = [
        # "Yes please." answers the discount question, not this one.
        ExtractionField("wants_invoice", "boolean", "Whether an invoice by email is wanted"),
        ExtractionField("floor_number", "integer", "The floor of the delivery address"),
        ExtractionField("colour", "string", "Preferred colour", ("red", "blue")),
    ]

    assert rules_extract(fields, CALL) == {
        "wants_invoice": None,
        "floor_number": None,
        "colour": None,
    }


def test_a_later_answer_to_the_same_question_wins() -> None:
    turns = _turns(
        ("bot", "Which day should we deliver?"),
        ("customer", "Deliver on monday"),
        ("bot", "Monday, is that right?"),
        ("customer", "Sorry, deliver on tuesday instead"),
    )

    fields = [ExtractionField("delivery_date", "date", "The new delivery date")]

    assert rules_extract(fields, turns) == {"delivery_date": "2026-12-01"}
