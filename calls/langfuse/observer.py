"""Every LLM turn of a call as a Langfuse generation.

Prompt, completion, function calls, token usage and latency, read from the frames going
into and out of the LLM service.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from templates_app.pipecat_compat import (
    BaseObserver,
    FramePushed,
    FunctionCallsStartedFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMService,
    LLMTextFrame,
    LLMUsageMetricsData,
    MetricsFrame,
)

if TYPE_CHECKING:
    from langfuse import LangfuseGeneration, LangfuseSpan


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json_safe(value: Any) -> Any:
    """Messages as JSON values (a context may hold objects the SDK would only repr)."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class _Turn:
    generation: LangfuseGeneration
    started: float
    text: list[str] = field(default_factory=list)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_output: dt.datetime | None = None
    usage: dict[str, int] = field(default_factory=dict)


class LangfuseTurnObserver(BaseObserver):
    """Opens a generation when a context reaches the LLM and ends it with the response."""

    def __init__(self, *, root: LangfuseSpan, current_node: Callable[[], str]) -> None:
        # Every push: a context is pushed into the LLM by whoever precedes it, which is not
        # where it was first pushed (a flow's context starts at the aggregator or the worker).
        super().__init__(observe_every_push=True)
        self._root = root
        self._current_node = current_node
        self._turn: _Turn | None = None
        self.generations = 0

    async def on_push_frame(self, data: FramePushed) -> None:
        frame = data.frame
        if isinstance(data.destination, LLMService):
            if isinstance(frame, LLMContextFrame):
                self._open(frame, data.destination)
            return
        turn = self._turn
        if turn is None or not isinstance(data.source, LLMService):
            return
        if isinstance(frame, LLMTextFrame):
            turn.first_output = turn.first_output or _now()
            turn.text.append(frame.text)
        elif isinstance(frame, FunctionCallsStartedFrame):
            # Broadcast both ways before the response ends (the calls run after it).
            turn.first_output = turn.first_output or _now()
            for call in frame.function_calls:
                turn.calls[call.tool_call_id] = {
                    "id": call.tool_call_id,
                    "type": "function",
                    "function": {
                        "name": call.function_name,
                        "arguments": json.dumps(call.arguments, sort_keys=True, default=str),
                    },
                }
        elif isinstance(frame, MetricsFrame):
            for metric in frame.data:
                if isinstance(metric, LLMUsageMetricsData):
                    usage = metric.value
                    turn.usage = {
                        "input": usage.prompt_tokens,
                        "output": usage.completion_tokens,
                        "total": usage.total_tokens,
                    }
        elif isinstance(frame, LLMFullResponseEndFrame):
            self.close()

    def _open(self, frame: LLMContextFrame, llm: LLMService[Any]) -> None:
        self.close()
        context = frame.context
        tools = context.tools
        tool_names = [tool.name for tool in getattr(tools, "standard_tools", [])]
        self.generations += 1
        generation = self._root.start_observation(
            name=f"llm turn {self.generations}",
            as_type="generation",
            input=_json_safe(context.get_messages()),
            model=getattr(llm.settings, "model", None) or type(llm).__name__,
            metadata={
                "node": self._current_node(),
                "turn": self.generations,
                "tools": tool_names,
                "speculative": bool(getattr(frame, "speculation", False)),
            },
        )
        self._turn = _Turn(generation=generation, started=time.monotonic())

    def close(self) -> None:
        """End the open generation (the response ended, or the call did mid-response)."""
        turn, self._turn = self._turn, None
        if turn is None:
            return
        text = "".join(turn.text).strip()
        output: dict[str, Any] = {"role": "assistant", "content": text}
        if turn.calls:
            output["tool_calls"] = list(turn.calls.values())
        turn.generation.update(
            output=output,
            completion_start_time=turn.first_output,
            usage_details=turn.usage or None,
            metadata={
                "latency_ms": round((time.monotonic() - turn.started) * 1000),
                "function_calls": [call["function"]["name"] for call in turn.calls.values()],
            },
        )
        turn.generation.end()
