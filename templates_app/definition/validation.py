"""Validate a template definition: JSON Schema for shape, then the checks a schema cannot make.

Every issue carries the JSON path of the offending value, so the editor can pin it to the
field that was broken.
"""

from __future__ import annotations

import json
import zoneinfo
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from templates_app.definition.evaluators import evaluator_issues
from templates_app.definition.extraction import extraction_issues
from templates_app.definition.recording import recording_warnings
from templates_app.definition.schema import DEFINITION_SCHEMA
from templates_app.definition.transfer import transfer_plan
from templates_app.definition.variables import BUILTIN_VARIABLES, placeholders, strings_with_paths
from templates_app.types import Issue, ValidationReport

# Large enough for 200 rich nodes; small enough to load per call without thought.
MAX_DEFINITION_BYTES = 256 * 1024

_VALIDATOR = Draft202012Validator(DEFINITION_SCHEMA)


def json_path(parts: Iterable[str | int]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _schema_issue(error: SchemaError) -> Issue:
    path = json_path(error.absolute_path)
    if error.validator == "additionalProperties":
        return Issue(
            path, error.message.replace("Additional properties are not allowed", "unknown field")
        )
    if error.validator == "required":
        return Issue(path, error.message)
    return Issue(path, error.message)


def _leaf_errors(error: SchemaError) -> Iterator[SchemaError]:
    # if/then failures report at the parent; their context holds the precise causes.
    if error.context:
        for cause in error.context:
            yield from _leaf_errors(cause)
    else:
        yield error


def schema_issues(definition: Any) -> list[Issue]:
    issues = {
        _schema_issue(leaf)
        for error in _VALIDATOR.iter_errors(definition)
        for leaf in _leaf_errors(error)
    }
    return sorted(issues, key=lambda issue: (issue.path, issue.message))


def shape_issues(definition: Any) -> list[Issue]:
    """Size and JSON Schema problems: what no stored definition, even a draft, may have."""
    try:
        size = len(json.dumps(definition).encode())
    except (TypeError, ValueError):
        return [Issue("$", "the definition is not JSON-serialisable")]
    if size > MAX_DEFINITION_BYTES:
        return [Issue("$", f"the definition is {size} bytes; the limit is {MAX_DEFINITION_BYTES}")]
    return schema_issues(definition)


def validate_definition(definition: Any, *, secret_names: Iterable[str] = ()) -> ValidationReport:
    """Check a definition; `secret_names` are template and merchant secrets usable as `{name}`."""
    errors = shape_issues(definition)
    if errors:
        return ValidationReport(errors=errors)
    checker = _SemanticChecker(definition, set(secret_names))
    checker.run()
    return ValidationReport(errors=checker.errors, warnings=checker.warnings)


class _SemanticChecker:
    def __init__(self, definition: Mapping[str, Any], secret_names: set[str]) -> None:
        self.definition = definition
        self.secret_names = secret_names
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.nodes: list[Mapping[str, Any]] = list(definition["nodes"])
        self.node_names = {node["name"] for node in self.nodes}
        self.globals: list[Mapping[str, Any]] = list(definition.get("global_functions", []))
        self.outcomes = {outcome["name"]: outcome for outcome in definition.get("outcomes", [])}

    def error(self, path: str, message: str) -> None:
        self.errors.append(Issue(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Issue(path, message))

    def run(self) -> None:
        self.check_names()
        self.check_transitions()
        self.check_functions()
        self.check_actions()
        self.check_variables()
        self.check_execution()
        self.check_graph()
        self.errors.extend(extraction_issues(self.definition))
        self.errors.extend(evaluator_issues(self.definition))

    def check_names(self) -> None:
        seen: dict[str, str] = {}
        for index, node in enumerate(self.nodes):
            path = f"$.nodes[{index}].name"
            if node["name"] in seen:
                self.error(
                    path, f"node name {node['name']!r} is already used at {seen[node['name']]}"
                )
            seen.setdefault(node["name"], path)
        if self.definition["initial_node"] not in self.node_names:
            self.error("$.initial_node", f"no node is named {self.definition['initial_node']!r}")
        # The rules engine and the LLM both address a function by name, in any node.
        functions: dict[str, str] = {}
        for path, function in self.all_functions():
            name = function["name"]
            if name in functions:
                self.error(
                    f"{path}.name", f"function name {name!r} is already used at {functions[name]}"
                )
            functions.setdefault(name, f"{path}.name")
        seen_outcomes: set[str] = set()
        for index, outcome in enumerate(self.definition.get("outcomes", [])):
            if outcome["name"] in seen_outcomes:
                self.error(
                    f"$.outcomes[{index}].name", f"outcome {outcome['name']!r} is declared twice"
                )
            seen_outcomes.add(outcome["name"])
        seen_variables: set[str] = set()
        for index, variable in enumerate(self.definition.get("variables", [])):
            if variable["name"] in seen_variables:
                self.error(
                    f"$.variables[{index}].name", f"variable {variable['name']!r} is declared twice"
                )
            seen_variables.add(variable["name"])

    def all_functions(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for node_index, node in enumerate(self.nodes):
            for index, function in enumerate(node.get("functions", [])):
                yield f"$.nodes[{node_index}].functions[{index}]", function
        for index, function in enumerate(self.globals):
            yield f"$.global_functions[{index}]", function

    def check_transitions(self) -> None:
        return_node = (self.definition.get("transfer") or {}).get("return_node")
        if return_node is not None and return_node not in self.node_names:
            self.error("$.transfer.return_node", f"no node is named {return_node!r}")
        for path, function in self.all_functions():
            target = function.get("transition_to")
            if target is not None and target not in self.node_names:
                self.error(f"{path}.transition_to", f"no node is named {target!r}")

    def check_functions(self) -> None:
        for path, function in self.all_functions():
            properties = function.get("properties", {})
            for index, name in enumerate(function.get("required", [])):
                if name not in properties:
                    self.error(
                        f"{path}.required[{index}]",
                        f"{name!r} is not one of the function's properties",
                    )
            for hook_index, hook in enumerate(function.get("hooks", [])):
                self.check_hook(f"{path}.hooks[{hook_index}]", hook, properties)
            if function.get("http"):
                self.check_http(f"{path}.http", function["http"])
            if (
                function.get("handler") == "transfer_to_agent"
                and transfer_plan(self.definition) is None
            ):
                self.error(
                    f"{path}.handler",
                    "transfer_to_agent needs transfer.number (or transfer_number) in the template",
                )
            if not function.get("examples") and not function.get("dtmf"):
                self.warn(
                    f"{path}.examples",
                    "no examples: the offline rules engine can never choose this function",
                )
        self.check_dtmf()

    def check_dtmf(self) -> None:
        """Keys must name one function in each node (global functions are in every node)."""
        global_keys = {
            function["dtmf"]: f"$.global_functions[{index}].dtmf"
            for index, function in enumerate(self.globals)
            if function.get("dtmf")
        }
        for node_index, node in enumerate(self.nodes):
            keys = dict(global_keys)
            for index, function in enumerate(node.get("functions", [])):
                if not function.get("dtmf"):
                    continue
                path = f"$.nodes[{node_index}].functions[{index}].dtmf"
                if function["dtmf"] in keys:
                    self.error(
                        path,
                        f"keys {function['dtmf']!r} are already used at {keys[function['dtmf']]}",
                    )
                keys.setdefault(function["dtmf"], path)

    def check_hook(self, path: str, hook: Mapping[str, Any], properties: Mapping[str, Any]) -> None:
        if hook["type"] == "http_request":
            self.check_http(f"{path}.http", hook["http"])
            return
        outcome = self.outcomes.get(hook["outcome"])
        if outcome is None:
            self.error(
                f"{path}.outcome", f"outcome {hook['outcome']!r} is not declared in outcomes"
            )
            return
        declared = set(outcome.get("fields", []))
        for field, source in hook.get("fields", {}).items():
            if field not in declared:
                self.error(
                    f"{path}.fields.{field}", f"outcome {hook['outcome']!r} has no field {field!r}"
                )
            if source["source"] == "llm":
                argument = source.get("argument", field)
                if argument not in properties:
                    self.error(
                        f"{path}.fields.{field}.argument",
                        f"the function has no property {argument!r} to take this value from",
                    )

    def check_http(self, path: str, http: Mapping[str, Any]) -> None:
        # Placeholders may stand for any part of the URL; judge the shape around them.
        url = http["url"]
        for name in placeholders(url):
            url = url.replace("{" + name + "}", "x")
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            self.error(f"{path}.url", f"{http['url']!r} is not an absolute http(s) URL")

    def check_actions(self) -> None:
        callable_names = {function["name"] for function in self.globals} | {
            "end_call",
            "transfer_to_agent",
            "get_current_time",
        }
        for node_index, node in enumerate(self.nodes):
            for key in ("pre_actions", "post_actions"):
                for index, action in enumerate(node.get(key, [])):
                    if action["type"] == "function" and action["handler"] not in callable_names:
                        self.error(
                            f"$.nodes[{node_index}].{key}[{index}].handler",
                            f"{action['handler']!r} is neither a builtin nor a global function",
                        )

    def check_variables(self) -> None:
        known = {variable["name"] for variable in self.definition.get("variables", [])}
        known |= self.secret_names | set(BUILTIN_VARIABLES)
        for path, text in strings_with_paths(self.definition, "$"):
            if ".variables[" in path or ".examples[" in path or ".outcomes[" in path:
                continue
            # Extraction and evaluator descriptions are sent as written, never filled in.
            if path.startswith(("$.extraction.", "$.evaluators[")):
                continue
            for name in placeholders(text):
                if name not in known:
                    self.error(
                        path,
                        f"{{{name}}} is not a declared variable, a template or merchant secret, or a built-in",
                    )

    def check_execution(self) -> None:
        execution = self.definition.get("execution", {})
        time_zone = execution.get("time_zone")
        if time_zone and time_zone != "lead" and time_zone not in zoneinfo.available_timezones():
            self.error("$.execution.time_zone", f'{time_zone!r} is not an IANA time zone or "lead"')
        for index, window in enumerate(execution.get("calling_windows", [])):
            if window["start"] >= window["end"]:
                self.error(
                    f"$.execution.calling_windows[{index}].end",
                    "the window must end after it starts",
                )
        self.check_providers(execution)
        self.warnings.extend(recording_warnings(self.definition))

    def check_providers(self, execution: Mapping[str, Any]) -> None:
        providers = execution.get("telephony_providers")
        if not providers:
            return
        for key in ("telephony_provider", "caller_numbers", "number_selection"):
            if key in execution:
                self.error(
                    f"$.execution.{key}",
                    "set it per provider in telephony_providers (both forms were given)",
                )
        seen: set[str] = set()
        for index, entry in enumerate(providers):
            if entry["provider"] in seen:
                self.error(
                    f"$.execution.telephony_providers[{index}].provider",
                    f"{entry['provider']!r} is listed twice; each provider is tried once",
                )
            seen.add(entry["provider"])

    def check_graph(self) -> None:
        edges: dict[str, set[str]] = {node["name"]: set() for node in self.nodes}
        global_targets = {f["transition_to"] for f in self.globals if f.get("transition_to")}
        for node in self.nodes:
            for function in node.get("functions", []):
                if function.get("transition_to"):
                    edges[node["name"]].add(function["transition_to"])
            edges[node["name"]] |= global_targets
        reachable = _reachable({self.definition["initial_node"]}, edges)
        for index, node in enumerate(self.nodes):
            if node["name"] not in reachable:
                self.warn(f"$.nodes[{index}]", f"node {node['name']!r} can never be reached")
        exits = {node["name"] for node in self.nodes if self._ends_call(node)}
        if self._has_global_end():
            exits = set(self.node_names)
        reverse: dict[str, set[str]] = {name: set() for name in edges}
        for source, targets in edges.items():
            for target in targets:
                reverse.setdefault(target, set()).add(source)
        can_exit = _reachable(exits, reverse)
        for index, node in enumerate(self.nodes):
            if node["name"] in reachable and node["name"] not in can_exit:
                self.warn(f"$.nodes[{index}]", f"no path from node {node['name']!r} ends the call")

    @staticmethod
    def _ends_call(node: Mapping[str, Any]) -> bool:
        actions = [*node.get("pre_actions", []), *node.get("post_actions", [])]
        return any(
            a["type"] == "end_conversation" or a.get("handler") == "end_call" for a in actions
        )

    def _has_global_end(self) -> bool:
        return any(f.get("handler") in {"end_call", "transfer_to_agent"} for f in self.globals)


def _reachable(start: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(start)
    queue = deque(start)
    while queue:
        for target in edges.get(queue.popleft(), set()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen
