"""A real LLM with the rules engine behind it: when the LLM fails, the rules engine answers.

Built on Pipecat's `LLMSwitcher`, so both services see the same tools and function handlers
and the flow's nodes, functions and transitions stay exactly as they were. The first error
the LLM reports about itself (an error status, a timeout, a refused connection, a stream it
cannot read) switches the call to the rules engine for good, and the turn the LLM failed
is answered again by the rules engine, so the customer is never left in silence. A failing
function handler is the flow's own problem, not the model's, and switches nothing.

Why for the rest of the call and not per turn: a provider that failed once is likely to fail
the next turn too, and every retry would make the customer wait out the timeout again
before the rules engine spoke; a bot that changes engines back and forth also changes
manner mid-call. The rules engine drives the same flow, so the call still reaches its outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from templates_app.dialogue.rules_llm import RulesLLMService
from templates_app.pipecat_compat import (
    ErrorCategory,
    ErrorFrame,
    Frame,
    FrameDirection,
    FrameProcessor,
    LLMContext,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMService,
    LLMSwitcher,
    ServiceSwitcherStrategyManual,
)


@dataclass(frozen=True)
class LLMFailure:
    """Why the LLM was given up: its error and Pipecat's category for it."""

    error: str
    category: str


class _FailoverToRules(ServiceSwitcherStrategyManual):
    """Switches from the LLM (first service) to the rules engine (second) on the LLM's error.

    Pipecat's own failover strategy switches only when a service can no longer work at all
    (bad credentials, say); a 5xx or a timeout leaves it "usable", and the call silent.
    """

    async def handle_error(self, error: ErrorFrame) -> FrameProcessor | None:
        llm, rules = self.services
        if error.processor is not llm or self.active_service is not llm:
            return None
        if error.category is ErrorCategory.APPLICATION:
            return None
        return await self._set_active_if_available(rules)


class RulesFallbackLLM(LLMSwitcher[_FailoverToRules]):
    """`llm` answers until it fails; from then on `rules` does, starting with the failed turn.

    `on_fallback` is awaited once, when the switch happens (log it, record it).
    """

    def __init__(
        self,
        *,
        llm: LLMService,
        rules: RulesLLMService,
        on_fallback: Callable[[LLMFailure], Awaitable[None]],
    ) -> None:
        super().__init__([llm, rules], strategy_type=_FailoverToRules)
        self._rules = rules
        self._on_fallback = on_fallback
        # The context the LLM is answering now, and the one the rules engine must answer
        # again once the failed response has ended.
        self._in_flight: LLMContext | None = None
        self._answer_again: LLMContext | None = None

    @property
    def fell_back(self) -> bool:
        return self.active_llm is self._rules

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, LLMContextFrame) and not self.fell_back:
            self._in_flight = frame.context
        await super().process_frame(frame, direction)

    async def push_frame(
        self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM
    ) -> None:
        if isinstance(frame, LLMFullResponseEndFrame) and self._answer_again is not None:
            # The failed response is left open and the rules engine's answer closes it, so
            # downstream sees one reply (an empty one would read as the bot's answer).
            context, self._answer_again = self._answer_again, None
            await self.queue_frame(LLMContextFrame(context=context))
            return
        was_on_llm = not self.fell_back
        # The base class absorbs an error it switched on, so the pipeline never sees it.
        await super().push_frame(frame, direction)
        if isinstance(frame, ErrorFrame) and was_on_llm and self.fell_back:
            await self._switched(frame)
        elif isinstance(frame, LLMFullResponseEndFrame) and was_on_llm:
            self._in_flight = None

    async def _switched(self, error: ErrorFrame) -> None:
        self._answer_again, self._in_flight = self._in_flight, None
        category = error.category.value if error.category else ErrorCategory.UNKNOWN.value
        await self._on_fallback(LLMFailure(error=error.error, category=category))
