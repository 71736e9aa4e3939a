"""The `extraction` section of a definition: shape and meaning, each error at its field."""

from __future__ import annotations

from typing import Any

from templates_app.definition.extraction import ExtractionField, extraction_fields
from templates_app.definition.validation import validate_definition
from templates_app.demo import demo_definition

FIELDS = [
    {"name": "delivery_date", "type": "date", "description": "The new delivery date"},
    {
        "name": "slot",
        "type": "string",
        "description": "The delivery slot",
        "options": ["morning", "evening"],
    },
]


def _with(extraction: Any) -> dict[str, Any]:
    return {**demo_definition("order-confirmation"), "extraction": extraction}


def _errors(extraction: Any) -> list[tuple[str, str]]:
    report = validate_definition(_with(extraction))
    return [(issue.path, issue.message) for issue in report.errors]


def test_a_valid_extraction_section_gives_its_fields() -> None:
    definition = _with({"instructions": "Read {order_id} literally.", "fields": FIELDS})

    assert validate_definition(definition).errors == []
    assert extraction_fields(definition) == [
        ExtractionField("delivery_date", "date", "The new delivery date"),
        ExtractionField("slot", "string", "The delivery slot", ("morning", "evening")),
    ]
    assert extraction_fields(demo_definition("order-confirmation")) == []


def test_shape_errors_point_at_the_field() -> None:
    assert _errors({"fields": []}) == [("$.extraction.fields", "[] should be non-empty")]
    assert _errors({"fields": [{"name": "Bad Name", "type": "colour", "description": ""}]}) == [
        ("$.extraction.fields[0].description", "'' should be non-empty"),
        ("$.extraction.fields[0].name", "'Bad Name' does not match '^[a-z][a-z0-9_]{0,62}$'"),
        (
            "$.extraction.fields[0].type",
            "'colour' is not one of ['string', 'integer', 'number', 'boolean', 'date', 'time']",
        ),
    ]


def test_duplicate_names_and_options_on_a_non_string_are_errors() -> None:
    fields = [
        *FIELDS,
        {"name": "slot", "type": "string", "description": "Again"},
        {"name": "floors", "type": "integer", "description": "Floors", "options": ["1", "2"]},
    ]

    assert _errors({"fields": fields}) == [
        (
            "$.extraction.fields[2].name",
            "field 'slot' is already extracted at $.extraction.fields[1]",
        ),
        ("$.extraction.fields[3].options", "options need a string field, not integer"),
    ]
