"""`execution.recording`: off, worker or provider; a provider that cannot record is warned about."""

from __future__ import annotations

from typing import Any

import pytest

from templates_app.definition.validation import validate_definition
from templates_app.demo import demo_definition


def _with_execution(**execution: Any) -> dict[str, Any]:
    definition = demo_definition("order-confirmation")
    definition["execution"] = {
        key: value
        for key, value in definition.get("execution", {}).items()
        if key not in {"telephony_provider", "caller_numbers", "number_selection"}
    } | execution
    return definition


def _recording_issues(definition: dict[str, Any]) -> tuple[list[str], list[str]]:
    report = validate_definition(definition)
    return (
        [i.message for i in report.errors if i.path.startswith("$.execution.recording")],
        [i.message for i in report.warnings if i.path == "$.execution.recording"],
    )


@pytest.mark.parametrize("mode", ["off", "worker", "provider"])
def test_each_mode_is_valid_for_twilio(mode: str) -> None:
    assert _recording_issues(_with_execution(recording=mode, telephony_provider="twilio")) == (
        [],
        [],
    )


def test_an_unknown_mode_is_an_error_naming_the_field() -> None:
    assert _recording_issues(_with_execution(recording="always")) == (
        ["'always' is not one of ['off', 'worker', 'provider']"],
        [],
    )


def test_providers_that_cannot_record_are_warned_about() -> None:
    definition = _with_execution(
        recording="provider",
        telephony_providers=[
            {"provider": "plivo"},
            {"provider": "exotel"},
            {"provider": "simulator"},
        ],
    )

    assert _recording_issues(definition) == (
        [],
        [
            "exotel cannot record on request; the voice worker records its calls instead",
            "simulator cannot record on request; the voice worker records its calls instead",
        ],
    )
