"""Run a Flows conversation as text through a real Pipecat pipeline, for tests and the playground.

Text in, text out: no audio, STT or TTS. The pipeline is

    source -> user aggregator -> RulesLLMService -> sink -> assistant aggregator

`RulesLLMService` is the default; a real LLM service (the one a call would use) may stand in
for it, and then an error the pipeline reports stops the conversation with
`ConversationError`.

The source writes each customer turn into the context as a user message; the sink
collects what the bot says (LLM replies and `tts_say` texts). A customer turn is sent
only once the bot's reply to the previous one has passed the assistant aggregator, so
the context always reads in conversation order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from templates_app.dialogue.matching import FunctionSpec
from templates_app.dialogue.rules_llm import RulesLLMService, local_now
from templates_app.pipecat_compat import (
    ControlFrame,
    EndFrame,
    ErrorFrame,
    ExternalUserTurnStrategies,
    FlowManager,
    FlowsDirectFunction,
    FlowsFunctionSchema,
    Frame,
    FrameDirection,
    FrameProcessor,
    FunctionCallsStartedFrame,
    LLMContext,
    LLMContextAggregatorPair,
    LLMContextMessage,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMMessagesAppendFrame,
    LLMService,
    LLMSetToolsFrame,
    LLMSwitcher,
    LLMTextFrame,
    LLMUserAggregatorParams,
    NodeConfig,
    Pipeline,
    PipelineParams,
    PipelineWorker,
    TTSSpeakFrame,
    WorkerRunner,
)


class ConversationError(RuntimeError):
    """The pipeline reported an error (a real LLM that failed); the message says which."""


@dataclass
class TextConversation:
    """What happened in a text conversation.

    Attributes:
        bot_lines: Each complete, non-empty bot utterance in order, `tts_say` texts included.
        ended: Whether the flow ended the conversation (an `end_conversation` action).
        nodes: The names of the nodes entered, in order.
        state: `flow_manager.state` at the end.
        transcript: Both sides in order, as ("customer" | "bot", text) pairs.
    """

    bot_lines: list[str] = field(default_factory=list)
    ended: bool = False
    nodes: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    transcript: list[tuple[str, str]] = field(default_factory=list, compare=False)


@dataclass
class _UserTurnFrame(ControlFrame):
    """A customer turn. Queued on the worker, it lines up behind the flow's own frames."""

    text: str


@dataclass
class _BotReplyFrame(ControlFrame):
    """Follows an LLM reply (not a tool call) to the end of the pipeline."""


class _UserTurnSource(FrameProcessor):
    """Turns each customer turn into a user message that runs the LLM; notes node entries."""

    def __init__(self, on_node_entered: Callable[[], None]) -> None:
        super().__init__()
        self._on_node_entered = on_node_entered

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, _UserTurnFrame):
            message: LLMContextMessage = {"role": "user", "content": frame.text}
            await self.push_frame(LLMMessagesAppendFrame(messages=[message], run_llm=True))
            return
        # FlowManager queues exactly one tools frame per node entry, and sets
        # current_node before anything can process it.
        if isinstance(frame, LLMSetToolsFrame) and direction is FrameDirection.DOWNSTREAM:
            self._on_node_entered()
        await self.push_frame(frame, direction)


class _BotTextSink(FrameProcessor):
    """Collects bot utterances and marks the end of each reply that was not a tool call."""

    def __init__(self, conversation: TextConversation, own_end: EndFrame) -> None:
        super().__init__()
        self._conversation = conversation
        self._own_end = own_end
        self._parts: list[str] = []
        self._calling = False

    def _add_line(self, text: str) -> None:
        if line := text.strip():
            self._conversation.bot_lines.append(line)
            self._conversation.transcript.append(("bot", line))

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction is FrameDirection.DOWNSTREAM:
            if isinstance(frame, LLMFullResponseStartFrame):
                self._parts = []
            elif isinstance(frame, LLMTextFrame):
                self._parts.append(frame.text)
            elif isinstance(frame, FunctionCallsStartedFrame):
                # A system frame: it may overtake the response start, never its end.
                self._calling = True
            elif isinstance(frame, TTSSpeakFrame):
                self._add_line(frame.text)
            elif isinstance(frame, EndFrame):
                self._conversation.ended = frame is not self._own_end
        await self.push_frame(frame, direction)
        if isinstance(frame, LLMFullResponseEndFrame):
            self._add_line("".join(self._parts))
            self._parts = []
            if not self._calling:
                await self.push_frame(_BotReplyFrame())
            self._calling = False


class _TextSession:
    """One conversation: the pipeline, the flow manager and the turn-by-turn driver."""

    def __init__(
        self,
        *,
        global_functions: Sequence[FlowsFunctionSchema | FlowsDirectFunction],
        functions: Mapping[str, FunctionSpec],
        node_text: Callable[[FlowManager], str],
        clock: Callable[[], datetime],
        llm: LLMService[Any] | LLMSwitcher[Any] | None,
    ) -> None:
        self.conversation = TextConversation()
        self.progress = "the pipeline to start"
        self._own_end = EndFrame()
        self._started = asyncio.Event()
        self._replies: asyncio.Queue[None] = asyncio.Queue()
        self._failures: list[Exception] = []

        external_llm = llm is not None
        if llm is None:
            llm = RulesLLMService(
                functions=functions, node_text=lambda: node_text(self.manager), clock=clock
            )
        # External turn strategies: turns arrive as whole messages, so no turn model loads.
        user_params = LLMUserAggregatorParams(user_turn_strategies=ExternalUserTurnStrategies())
        aggregators = LLMContextAggregatorPair(LLMContext(), user_params=user_params)
        pipeline = Pipeline(
            [
                _UserTurnSource(self._node_entered),
                aggregators.user(),
                llm,
                _BotTextSink(self.conversation, self._own_end),
                aggregators.assistant(),
            ]
        )
        self.worker = PipelineWorker(
            pipeline,
            params=PipelineParams(),
            cancel_on_idle_timeout=False,
            idle_timeout_secs=None,
            enable_rtvi=False,
            enable_turn_tracking=False,
        )
        flows_functions: list[FlowsFunctionSchema | FlowsDirectFunction] = [*global_functions]
        self.manager = FlowManager(
            llm=llm,
            context_aggregator=aggregators,
            worker=self.worker,
            global_functions=flows_functions,
        )
        # Only after FlowManager: its action manager replaces the worker's downstream filter.
        self.worker.add_reached_downstream_filter((_BotReplyFrame,))
        self.worker.add_event_handler("on_pipeline_started", self._on_pipeline_started)
        self.worker.add_event_handler("on_frame_reached_downstream", self._on_reached_downstream)
        if external_llm:
            # Only a real LLM's failure ends the talk; the rules engine's runs never did.
            self.worker.add_event_handler("on_pipeline_error", self._on_pipeline_error)

    def _node_entered(self) -> None:
        self.conversation.nodes.append(self.manager.current_node or "")

    async def _on_pipeline_started(self, _worker: PipelineWorker, _frame: Frame) -> None:
        self._started.set()

    async def _on_reached_downstream(self, _worker: PipelineWorker, frame: Frame) -> None:
        if isinstance(frame, _BotReplyFrame):
            self._replies.put_nowait(None)

    async def _on_pipeline_error(self, _worker: PipelineWorker, frame: ErrorFrame) -> None:
        # A failed completion still ends its response, so the talk would go on with silence.
        self._failures.append(ConversationError(frame.error))
        await self.worker.cancel(reason=f"text conversation failed: {frame.error}")

    async def drive(self, initial_node: NodeConfig, user_turns: Sequence[str]) -> None:
        """Start the flow, then send each turn once the bot has replied to the one before."""
        try:
            await self._started.wait()
            self.progress = "the bot's first reply"
            await self.manager.initialize(initial_node)
            for number, turn in enumerate(user_turns, start=1):
                await self._replies.get()
                self.progress = f"the bot's reply to turn {number} ({turn!r})"
                self.conversation.transcript.append(("customer", turn))
                await self.worker.queue_frame(_UserTurnFrame(text=turn))
            await self._replies.get()
            self.progress = "the pipeline to stop"
            await self.worker.queue_frame(self._own_end)
        except Exception as error:
            self._failures.append(error)
            await self.worker.cancel(reason=f"text conversation failed: {error}")

    def result(self) -> TextConversation:
        """The finished conversation, or the error that stopped it early."""
        if self._failures:
            raise self._failures[0]
        if not self.conversation.ended and self.progress != "the pipeline to stop":
            raise RuntimeError(f"pipeline stopped while waiting for {self.progress}")
        self.conversation.state = dict(self.manager.state)
        return self.conversation


async def run_text_conversation(
    *,
    initial_node: NodeConfig,
    global_functions: Sequence[FlowsFunctionSchema | FlowsDirectFunction] = (),
    functions: Mapping[str, FunctionSpec],
    node_text: Callable[[FlowManager], str],
    user_turns: Sequence[str],
    clock: Callable[[], datetime] = local_now,
    llm: LLMService[Any] | LLMSwitcher[Any] | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 -- runner.run() swallows cancellation; see below
) -> TextConversation:
    """Run a flow with `RulesLLMService` (or `llm`), feeding it `user_turns` one at a time.

    Args:
        initial_node: The node the flow starts in.
        global_functions: Functions offered in every node.
        functions: The rules catalogue: every function the flow may offer, by name.
        node_text: What the bot says in the node that is active (given the flow manager).
        user_turns: What the customer says, in order. Each is sent after the bot's reply
            to the previous one; the pipeline stops after the reply to the last one, or
            earlier if the flow ends the conversation.
        clock: The timezone-aware now that dates are read against.
        llm: A real LLM service (or one with the rules engine behind it, `RulesFallbackLLM`)
            to answer instead of the rules engine.
        timeout: Seconds the whole conversation may take.

    Returns:
        What the bot said, whether the flow ended the call, the nodes entered and the
        final flow state.

    Raises:
        TimeoutError: The conversation did not finish within `timeout`, e.g. a node
            that never replies (`respond_immediately` false after a transition).
        ConversationError: With `llm`, the pipeline reported an error (a failed completion).
        RuntimeError: The pipeline stopped before the conversation finished.
    """
    session = _TextSession(
        global_functions=global_functions,
        functions=functions,
        node_text=node_text,
        clock=clock,
        llm=llm,
    )
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(session.worker)
    # WorkerRunner.run() swallows cancellation and returns normally, so asyncio.timeout
    # around it would never raise: the deadline is kept by hand.
    run_task = asyncio.create_task(runner.run())
    drive_task = asyncio.create_task(session.drive(initial_node, user_turns))
    try:
        done, _ = await asyncio.wait({run_task}, timeout=timeout)
        if not done:
            # Read before cancelling: a cancelled LLM still ends its response, which would
            # move the driver on to the next turn.
            waiting_for = session.progress
            await session.worker.cancel(reason="text conversation timed out")
            await run_task
            raise TimeoutError(
                f"text conversation timed out after {timeout:g}s waiting for {waiting_for}"
            )
    finally:
        drive_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drive_task
    return session.result()
