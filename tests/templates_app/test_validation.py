from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from templates_app.definition.validation import MAX_DEFINITION_BYTES, validate_definition
from templates_app.demo import DEMO_TEMPLATES, demo_definition

Mutation = Callable[[dict[str, Any]], None]


@pytest.mark.parametrize("slug", list(DEMO_TEMPLATES))
def test_demo_templates_are_valid_without_warnings(slug: str) -> None:
    report = validate_definition(demo_definition(slug))

    assert report.as_dict() == {"valid": True, "errors": [], "warnings": []}


def _set(path: str, value: Any) -> Mutation:
    def mutate(definition: dict[str, Any]) -> None:
        target: Any = definition
        *parents, leaf = path.split("/")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if isinstance(target, list):
            target[int(leaf)] = value
        else:
            target[leaf] = value

    return mutate


@pytest.mark.parametrize(
    ("_case", "mutate", "path", "message"),
    [
        (
            "unknown transition",
            _set("nodes/0/functions/0/transition_to", "nowhere"),
            "$.nodes[0].functions[0].transition_to",
            "no node is named 'nowhere'",
        ),
        (
            "unknown initial node",
            _set("initial_node", "start"),
            "$.initial_node",
            "no node is named 'start'",
        ),
        (
            "number out of range",
            _set("vad/confidence", 3),
            "$.vad.confidence",
            "3 is greater than the maximum of 1",
        ),
        ("wrong type", _set("nodes", "abc"), "$.nodes", "'abc' is not of type 'array'"),
        (
            "unknown field",
            _set("nodes/0/colour", "red"),
            "$.nodes[0]",
            "unknown field ('colour' was unexpected)",
        ),
        (
            "missing required",
            _set("nodes/3", {"name": "order_confirmed"}),
            "$.nodes[3]",
            "'task_messages' is a required property",
        ),
        (
            "bad action",
            _set("nodes/0/pre_actions", [{"type": "tts_say"}]),
            "$.nodes[0].pre_actions[0]",
            "'text' is a required property",
        ),
        (
            "unknown builtin",
            _set("global_functions/0/handler", "explode"),
            "$.global_functions[0].handler",
            "'explode' is not one of ['end_call', 'transfer_to_agent', 'get_current_time']",
        ),
        (
            "undeclared outcome",
            _set("nodes/0/functions/0/hooks/0/outcome", "shipped"),
            "$.nodes[0].functions[0].hooks[0].outcome",
            "outcome 'shipped' is not declared in outcomes",
        ),
        (
            "undeclared outcome field",
            _set(
                "nodes/0/functions/0/hooks/0/fields",
                {"colour": {"source": "static", "value": "red"}},
            ),
            "$.nodes[0].functions[0].hooks[0].fields.colour",
            "outcome 'confirmed' has no field 'colour'",
        ),
        (
            "llm field without property",
            _set("nodes/1/functions/0/hooks/0/fields/reason", {"source": "llm", "argument": "why"}),
            "$.nodes[1].functions[0].hooks[0].fields.reason.argument",
            "the function has no property 'why' to take this value from",
        ),
        (
            "unknown variable",
            _set("nodes/0/say", "Hello {nickname}"),
            "$.nodes[0].say",
            "{nickname} is not a declared variable, a template or merchant secret, or a built-in",
        ),
        (
            "duplicate function",
            _set("nodes/0/functions/1/name", "confirm_order"),
            "$.nodes[0].functions[1].name",
            "function name 'confirm_order' is already used at $.nodes[0].functions[0].name",
        ),
        (
            "bad url",
            _set(
                "global_functions/0",
                {
                    "type": "http",
                    "name": "stock",
                    "description": "d",
                    "examples": ["stock"],
                    "http": {"url": "ftp:/stock"},
                },
            ),
            "$.global_functions[0].http.url",
            "'ftp:/stock' is not an absolute http(s) URL",
        ),
        (
            "bad time zone",
            _set("execution/time_zone", "Mars/Base"),
            "$.execution.time_zone",
            "'Mars/Base' is not an IANA time zone or \"lead\"",
        ),
        (
            "window ends first",
            _set("execution/calling_windows/0/end", "08:00"),
            "$.execution.calling_windows[0].end",
            "the window must end after it starts",
        ),
        (
            "keys that are not a keypad's",
            _set("nodes/0/functions/0/dtmf", "1a"),
            "$.nodes[0].functions[0].dtmf",
            "'1a' does not match '^[0-9*#]{1,20}$'",
        ),
        (
            "bad phone",
            _set("transfer_number", "12345"),
            "$.transfer_number",
            "'12345' does not match '^\\\\+[1-9][0-9]{6,14}$'",
        ),
    ],
)
def test_errors_point_at_the_broken_field(
    _case: str, mutate: Mutation, path: str, message: str, order_definition: dict[str, Any]
) -> None:
    mutate(order_definition)

    report = validate_definition(order_definition)

    assert report.is_valid is False
    assert [issue.as_dict() for issue in report.errors] == [{"path": path, "message": message}]


def test_duplicate_node_names_are_errors(order_definition: dict[str, Any]) -> None:
    order_definition["nodes"][4]["name"] = "order_confirmed"

    report = validate_definition(order_definition)

    assert [issue.as_dict() for issue in report.errors] == [
        {
            "path": "$.nodes[4].name",
            "message": "node name 'order_confirmed' is already used at $.nodes[3].name",
        },
        {
            "path": "$.nodes[1].functions[0].transition_to",
            "message": "no node is named 'order_cancelled'",
        },
    ]


def test_transfer_builtin_needs_a_transfer_number(order_definition: dict[str, Any]) -> None:
    del order_definition["transfer_number"]

    report = validate_definition(order_definition)

    assert [issue.as_dict() for issue in report.errors] == [
        {
            "path": "$.global_functions[0].handler",
            "message": "transfer_to_agent needs transfer.number (or transfer_number) in the template",
        }
    ]


def test_a_transfer_block_gives_the_number_and_its_return_node_must_exist(
    order_definition: dict[str, Any],
) -> None:
    del order_definition["transfer_number"]
    order_definition["transfer"] = {"mode": "warm", "number": "+15555550177", "return_node": "nope"}

    report = validate_definition(order_definition)

    assert [issue.as_dict() for issue in report.errors] == [
        {"path": "$.transfer.return_node", "message": "no node is named 'nope'"}
    ]


def test_a_voicemail_message_needs_its_text(order_definition: dict[str, Any]) -> None:
    order_definition["voicemail"] = {"action": "message"}

    report = validate_definition(order_definition)

    assert [issue.path for issue in report.errors] == ["$.voicemail"]


def test_secrets_make_placeholders_resolvable(order_definition: dict[str, Any]) -> None:
    order_definition["nodes"][0]["say"] = "Use {coupon_code}"

    assert validate_definition(order_definition).is_valid is False
    assert validate_definition(order_definition, secret_names={"coupon_code"}).is_valid is True


def test_unreachable_nodes_and_cycles_without_exit_are_warnings(
    order_definition: dict[str, Any],
) -> None:
    order_definition["nodes"].append(
        {
            "name": "orphan",
            "task_messages": ["never"],
            "functions": [
                {
                    "name": "loop",
                    "description": "loop",
                    "transition_to": "orphan",
                    "examples": ["again"],
                }
            ],
        }
    )
    order_definition["global_functions"] = []
    order_definition["nodes"][2]["functions"][0]["transition_to"] = "reschedule"

    report = validate_definition(order_definition)

    assert report.is_valid is True
    assert [issue.as_dict() for issue in report.warnings] == [
        {"path": "$.nodes[5]", "message": "node 'delivery_rescheduled' can never be reached"},
        {"path": "$.nodes[6]", "message": "node 'orphan' can never be reached"},
        {"path": "$.nodes[2]", "message": "no path from node 'reschedule' ends the call"},
    ]


def test_oversize_definitions_are_refused(order_definition: dict[str, Any]) -> None:
    order_definition["nodes"][0]["functions"][0]["examples"] = ["y" * 200] * 50
    order_definition["nodes"] = order_definition["nodes"] + [
        {**order_definition["nodes"][0], "name": f"copy_{index}", "functions": []}
        for index in range(30)
    ]
    order_definition["nodes"][0]["task_messages"] = ["x" * 4000] * 70
    size = len(json.dumps(order_definition).encode())

    report = validate_definition(order_definition)

    assert size > MAX_DEFINITION_BYTES
    assert [issue.as_dict() for issue in report.errors] == [
        {
            "path": "$",
            "message": f"the definition is {size} bytes; the limit is {MAX_DEFINITION_BYTES}",
        }
    ]


@pytest.mark.parametrize(
    ("_case", "definition"), [("a list", []), ("a string", "{"), ("null", None)]
)
def test_non_objects_are_refused(_case: str, definition: Any) -> None:
    report = validate_definition(definition)

    assert report.is_valid is False
    assert report.errors[0].path == "$"


def test_keys_call_one_function_per_node(order_definition: dict[str, Any]) -> None:
    order_definition["global_functions"][0]["dtmf"] = "0"
    order_definition["nodes"][0]["functions"][0]["dtmf"] = "1"
    order_definition["nodes"][0]["functions"][1]["dtmf"] = "0"
    order_definition["nodes"][1]["functions"][0]["dtmf"] = "1"

    report = validate_definition(order_definition)

    assert report.as_dict()["errors"] == [
        {
            "path": "$.nodes[0].functions[1].dtmf",
            "message": "keys '0' are already used at $.global_functions[0].dtmf",
        }
    ]


def test_a_function_with_keys_needs_no_spoken_examples(order_definition: dict[str, Any]) -> None:
    del order_definition["nodes"][0]["functions"][0]["examples"]
    order_definition["nodes"][0]["functions"][0]["dtmf"] = "1"

    report = validate_definition(order_definition)

    assert report.as_dict() == {"valid": True, "errors": [], "warnings": []}
