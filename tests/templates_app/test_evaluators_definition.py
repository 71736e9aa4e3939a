"""The `evaluators` section: each names an extraction field that can be a score."""

from __future__ import annotations

from typing import Any

from templates_app.definition.evaluators import Evaluator, template_evaluators
from templates_app.definition.validation import validate_definition
from templates_app.demo import demo_definition

EXTRACTION = {
    "fields": [
        {"name": "confirmed", "type": "boolean", "description": "The order was confirmed"},
        {"name": "rating", "type": "integer", "description": "Satisfaction from 1 to 5"},
        {"name": "mood", "type": "string", "description": "Mood", "options": ["calm", "upset"]},
        {"name": "reason", "type": "string", "description": "Why they cancelled"},
        {"name": "new_date", "type": "date", "description": "The new delivery date"},
    ]
}


def _with(evaluators: Any, extraction: Any = EXTRACTION) -> dict[str, Any]:
    definition = {**demo_definition("order-confirmation"), "evaluators": evaluators}
    if extraction is not None:
        definition["extraction"] = extraction
    return definition


def _errors(evaluators: Any, extraction: Any = EXTRACTION) -> list[tuple[str, str]]:
    report = validate_definition(_with(evaluators, extraction))
    return [(issue.path, issue.message) for issue in report.errors]


def test_boolean_numeric_and_categorical_fields_become_typed_evaluators() -> None:
    definition = _with(
        [
            {"name": "order_confirmed", "field": "confirmed", "description": "Said yes"},
            {"name": "satisfaction", "field": "rating"},
            {"name": "customer_mood", "field": "mood", "description": "{not} a placeholder"},
        ]
    )

    assert validate_definition(definition).errors == []
    assert template_evaluators(definition) == [
        Evaluator("order_confirmed", "confirmed", "Said yes", "BOOLEAN"),
        Evaluator("satisfaction", "rating", "", "NUMERIC"),
        Evaluator("customer_mood", "mood", "{not} a placeholder", "CATEGORICAL"),
    ]
    assert template_evaluators(demo_definition("order-confirmation")) == []


def test_an_evaluator_needs_an_extracted_field_that_can_be_a_score() -> None:
    assert _errors(
        [
            {"name": "why", "field": "reason"},
            {"name": "when", "field": "new_date"},
            {"name": "ghost", "field": "missing"},
            {"name": "why", "field": "confirmed"},
        ]
    ) == [
        (
            "$.evaluators[0].field",
            "'reason' is a string field without options: a score needs a boolean, an integer, "
            "a number or a string with options",
        ),
        (
            "$.evaluators[1].field",
            "'new_date' is a date field without options: a score needs a boolean, an integer, "
            "a number or a string with options",
        ),
        ("$.evaluators[2].field", "'missing' is not a field of $.extraction.fields"),
        ("$.evaluators[3].name", "evaluator 'why' is already defined at $.evaluators[0]"),
    ]
    assert _errors([{"name": "ok", "field": "confirmed"}], extraction=None) == [
        ("$.evaluators[0].field", "'confirmed' is not a field of $.extraction.fields")
    ]


def test_the_shape_is_checked_field_by_field() -> None:
    errors = _errors([{"name": "Bad Name", "field": "confirmed", "weight": 2}, {"name": "x"}])

    assert [path for path, _ in errors] == [
        "$.evaluators[0]",
        "$.evaluators[0].name",
        "$.evaluators[1]",
    ]
