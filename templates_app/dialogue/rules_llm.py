"""A deterministic stand-in for an LLM: matches the customer's words to the node's functions.

Used when no LLM key is configured. It sits where an LLM service sits in a Pipecat
pipeline and calls functions through Pipecat's own function-calling path, so Flows
handlers and transitions run exactly as they do with a real model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from templates_app.dialogue.arguments import fill_arguments
from templates_app.dialogue.matching import FunctionSpec, Match, choose_function
from templates_app.pipecat_compat import (
    Frame,
    FrameDirection,
    FunctionCallFromLLM,
    LLMContext,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMService,
    LLMSettings,
    LLMTextFrame,
    ToolsSchema,
    standard_message_text,
)

DEFAULT_REPROMPT = "Sorry, I didn't catch that. Could you say it another way?"


def local_now() -> datetime:
    """Return the current time, aware of the machine's local timezone."""
    return datetime.now().astimezone()


class RulesLLMService(LLMService):
    """An LLM service that answers from rules instead of a model.

    On each `LLMContextFrame` it makes one decision:

    - The newest context message is a customer turn it has not answered yet: it
      matches the words against the functions the context currently offers. A match
      is called through `run_function_calls`, as a real LLM's tool call would be; no
      match makes it speak `reprompt`.
    - Anything else (a node was entered, or a function result asks for a response):
      it speaks `node_text()`, if that is not empty.

    A customer turn is answered once, so a context that is re-run without a new turn
    (a transition that adds no messages, say) speaks the node instead of calling the
    function again.

    Attributes:
        last_match: The decision on the latest customer turn: the function called with
            its arguments, or None when it re-prompted (or no turn was answered yet).
    """

    def __init__(
        self,
        *,
        functions: Mapping[str, FunctionSpec],
        node_text: Callable[[], str],
        reprompt: str = DEFAULT_REPROMPT,
        threshold: float = 0.6,
        clock: Callable[[], datetime] = local_now,
        **kwargs: Any,
    ) -> None:
        """Create the service.

        Args:
            functions: Every function the flow may offer, by name. Only those the
                context offers at the time are considered.
            node_text: Returns what to say for the node that is active now.
            reprompt: What to say when no function matches.
            threshold: The lowest match score that calls a function.
            clock: Returns the timezone-aware now that dates are read against.
            **kwargs: Passed on to `LLMService`.
        """
        # Every field is set (None where a model setting means nothing here), or Pipecat
        # logs an error about NOT_GIVEN fields when the service starts.
        settings = LLMSettings(
            model="rules",
            system_instruction=None,
            temperature=None,
            max_tokens=None,
            top_p=None,
            top_k=None,
            frequency_penalty=None,
            presence_penalty=None,
            seed=None,
            filter_incomplete_user_turns=None,
            user_turn_completion_config=None,
            use_provider_thinking_default=False,
        )
        super().__init__(settings=settings, **kwargs)
        self._catalogue = dict(functions)
        self._node_text = node_text
        self._reprompt = reprompt
        self._threshold = threshold
        self._clock = clock
        self._calls = 0
        # The customer message last acted on, held by identity: the same text said twice
        # is two turns, and one message seen twice is one.
        self._answered: object | None = None
        self.last_match: Match | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Answer context frames; pass every other frame on."""
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self._answer(frame.context)
        else:
            await self.push_frame(frame, direction)

    async def _answer(self, context: LLMContext) -> None:
        messages = context.get_messages()
        newest = messages[-1] if messages else None
        if not (isinstance(newest, dict) and newest.get("role") == "user"):
            await self._speak(self._node_text())
            return
        if newest is self._answered:
            await self._speak(self._node_text())
            return
        self._answered = newest
        text = standard_message_text(newest)
        match = choose_function(text, self._offered(context), threshold=self._threshold)
        if match is None:
            self.last_match = None
            await self._speak(self._reprompt)
            return
        spec = self._catalogue[match.function]
        arguments = fill_arguments(text, spec.properties, spec.required, now=self._clock())
        self.last_match = replace(match, arguments=arguments)
        await self._call(self.last_match, context)

    def _offered(self, context: LLMContext) -> list[FunctionSpec]:
        tools = context.tools
        if not isinstance(tools, ToolsSchema):
            return []
        return [
            self._catalogue[tool.name]
            for tool in tools.standard_tools
            if tool.name in self._catalogue
        ]

    async def _call(self, match: Match, context: LLMContext) -> None:
        self._calls += 1
        call = FunctionCallFromLLM(
            function_name=match.function,
            tool_call_id=f"rules-{self._calls}",
            arguments=match.arguments,
            context=context,
        )
        # Framed like a real LLM's tool-call response: start, the call, end, no text.
        await self.push_frame(LLMFullResponseStartFrame())
        await self.run_function_calls([call])
        await self.push_frame(LLMFullResponseEndFrame())

    async def _speak(self, text: str) -> None:
        await self.push_frame(LLMFullResponseStartFrame())
        if text:
            await self.push_frame(LLMTextFrame(text))
        await self.push_frame(LLMFullResponseEndFrame())
