"""Hold a text conversation with a template version through the real Pipecat flow.

The playground and the tests use this: the same `BuiltFlow` a call runs, driven by the rules
engine in a text-only Pipecat pipeline, with a `RecordingRuntime` so nothing real happens.
A real LLM has the rules engine behind it as in a call (`RulesFallbackLLM`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from templates_app.dialogue.fallback import LLMFailure, RulesFallbackLLM
from templates_app.dialogue.rules_llm import RulesLLMService
from templates_app.dialogue.text_session import run_text_conversation
from templates_app.flows.builder import build_flow
from templates_app.flows.factory import FlowInputs
from templates_app.flows.http import HttpResult
from templates_app.flows.runtime import RecordedEvent, RecordingRuntime
from templates_app.pipecat_compat import LLMService


@dataclass(frozen=True)
class Conversation:
    bot_lines: list[str]
    transcript: list[tuple[str, str]]
    ended: bool
    nodes: list[str]
    events: list[RecordedEvent]
    outcome: str | None
    outcome_fields: dict[str, Any]
    # The real LLM's error when the rules engine took over from it part-way; else empty.
    llm_failure: str = ""


async def converse(
    inputs: FlowInputs,
    *,
    turns: Sequence[str],
    clock: dt.datetime,
    http_responses: Mapping[str, HttpResult] | None = None,
    send_http: bool = False,
    llm: LLMService[Any] | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 -- passed on; see run_text_conversation
) -> Conversation:
    """Talk through the flow; `llm` answers instead of the rules engine until it fails."""
    runtime = RecordingRuntime(
        clock=clock, http_responses=dict(http_responses or {}), send_http=send_http
    )
    flow = build_flow(inputs, runtime=runtime)
    initial = await flow.enter(flow.initial_node)
    failures: list[LLMFailure] = []

    async def fell_back(failure: LLMFailure) -> None:
        failures.append(failure)

    rules = RulesLLMService(
        functions=flow.function_specs, node_text=flow.node_text, clock=lambda: clock
    )
    result = await run_text_conversation(
        initial_node=initial,
        global_functions=flow.global_functions,
        functions=flow.function_specs,
        node_text=lambda flow_manager: flow.node_text(),
        user_turns=turns,
        clock=lambda: clock,
        llm=None if llm is None else RulesFallbackLLM(llm=llm, rules=rules, on_fallback=fell_back),
        timeout=timeout,
    )
    await flow.drain()
    return Conversation(
        bot_lines=result.bot_lines,
        transcript=result.transcript,
        ended=result.ended,
        nodes=runtime.nodes_entered(),
        events=runtime.events,
        outcome=runtime.outcome,
        outcome_fields=runtime.outcome_fields,
        llm_failure=failures[0].error if failures else "",
    )
