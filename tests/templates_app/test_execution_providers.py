"""Execution config: the failover list of telephony providers, and pre-checks."""

from __future__ import annotations

from typing import Any

from templates_app.definition.providers import (
    ProviderChoice,
    execution_providers,
    provider_after,
    provider_choice,
)
from templates_app.definition.validation import validate_definition
from templates_app.demo import demo_definition

TWILIO = {"provider": "twilio", "caller_numbers": ["+15555550111"], "number_selection": "first"}
PLIVO = {"provider": "plivo", "caller_numbers": ["+15555550222", "+15555550223"]}
HOOK = {
    "type": "http",
    "http": {
        "url": "https://crm.example.com/eligible/{customer_phone}",
        "method": "GET",
        "headers": {"X-Order": "{order_id}"},
        "timeout": 2,
    },
    "on_error": "block",
}


def _with_execution(**execution: Any) -> dict[str, Any]:
    definition = demo_definition("order-confirmation")
    base = {
        key: value
        for key, value in definition.get("execution", {}).items()
        if key not in {"telephony_provider", "caller_numbers", "number_selection"}
    }
    definition["execution"] = {**base, **execution}
    return definition


def _errors(definition: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"path": issue.path, "message": issue.message}
        for issue in validate_definition(definition).errors
    ]


def test_a_provider_list_with_pre_checks_is_valid() -> None:
    assert _errors(_with_execution(telephony_providers=[TWILIO, PLIVO], pre_checks=[HOOK])) == []


def test_both_forms_at_once_and_a_provider_listed_twice_are_refused() -> None:
    definition = _with_execution(
        telephony_provider="twilio", telephony_providers=[TWILIO, PLIVO, {"provider": "twilio"}]
    )

    assert _errors(definition) == [
        {
            "path": "$.execution.telephony_provider",
            "message": "set it per provider in telephony_providers (both forms were given)",
        },
        {
            "path": "$.execution.telephony_providers[2].provider",
            "message": "'twilio' is listed twice; each provider is tried once",
        },
    ]


def test_a_pre_check_needs_its_http_block_and_a_known_on_error() -> None:
    definition = _with_execution(pre_checks=[{"type": "http", "on_error": "maybe"}])

    assert sorted(error["path"] for error in _errors(definition)) == [
        "$.execution.pre_checks[0]",
        "$.execution.pre_checks[0].on_error",
    ]


def test_the_order_of_providers_is_the_failover_order() -> None:
    execution = {"telephony_providers": [TWILIO, PLIVO]}

    assert execution_providers(execution, default="simulator") == [
        ProviderChoice("twilio", ("+15555550111",), "first"),
        ProviderChoice("plivo", ("+15555550222", "+15555550223"), "first"),
    ]
    assert provider_after(execution, provider="twilio", default="simulator") == ProviderChoice(
        "plivo", ("+15555550222", "+15555550223"), "first"
    )
    assert provider_after(execution, provider="plivo", default="simulator") is None
    assert provider_after(execution, provider="exotel", default="simulator") is None
    assert provider_choice(execution, provider="exotel") == ProviderChoice("exotel")


def test_the_single_provider_keys_are_a_list_of_one() -> None:
    execution = {"caller_numbers": ["+15555550111"], "number_selection": "round_robin"}

    assert execution_providers(execution, default="simulator") == [
        ProviderChoice("simulator", ("+15555550111",), "round_robin")
    ]
    assert execution_providers({"telephony_provider": "plivo"}, default="simulator") == [
        ProviderChoice("plivo")
    ]
    assert provider_after(execution, provider="simulator", default="simulator") is None
    # Without a list, the numbers apply to whichever provider the call went to.
    assert provider_choice(execution, provider="twilio") == ProviderChoice(
        "twilio", ("+15555550111",), "round_robin"
    )
