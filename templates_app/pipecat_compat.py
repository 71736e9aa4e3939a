"""The one module through which the project imports Pipecat (pipecat-ai 1.14.0).

Every import path below was checked against the installed 1.14.0 source, so a Pipecat
upgrade only has to fix this file. `run_test` is Pipecat's own harness for driving one
processor, re-exported for the tests. Flows come from `pipecat.flows` inside pipecat-ai; the
deprecated `pipecat-ai-flows` package is never used.
"""

from __future__ import annotations

from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.flows import (
    ActionConfig,
    ContextStrategy,
    ContextStrategyConfig,
    FlowArgs,
    FlowManager,
    FlowResult,
    FlowsDirectFunction,
    FlowsFunctionSchema,
    NodeConfig,
)
from pipecat.frames.frames import (
    CancelFrame,
    ControlFrame,
    EndFrame,
    Frame,
    FunctionCallFromLLM,
    FunctionCallsStartedFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMMessagesAppendFrame,
    LLMSetToolsFrame,
    LLMTextFrame,
    StartFrame,
    TextFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import (
    LLMContext,
    LLMContextMessage,
    standard_message_text,
)
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.llm_service import FunctionCallParams, LLMService
from pipecat.services.settings import LLMSettings
from pipecat.tests.utils import run_test
from pipecat.turns.user_turn_strategies import ExternalUserTurnStrategies
from pipecat.workers.runner import WorkerRunner

__all__ = [
    "ActionConfig",
    "CancelFrame",
    "ContextStrategy",
    "ContextStrategyConfig",
    "ControlFrame",
    "EndFrame",
    "ExternalUserTurnStrategies",
    "FlowArgs",
    "FlowManager",
    "FlowResult",
    "FlowsDirectFunction",
    "FlowsFunctionSchema",
    "Frame",
    "FrameDirection",
    "FrameProcessor",
    "FunctionCallFromLLM",
    "FunctionCallParams",
    "FunctionCallsStartedFrame",
    "FunctionSchema",
    "LLMContext",
    "LLMContextAggregatorPair",
    "LLMContextFrame",
    "LLMContextMessage",
    "LLMFullResponseEndFrame",
    "LLMFullResponseStartFrame",
    "LLMMessagesAppendFrame",
    "LLMService",
    "LLMSetToolsFrame",
    "LLMSettings",
    "LLMTextFrame",
    "LLMUserAggregatorParams",
    "NodeConfig",
    "Pipeline",
    "PipelineParams",
    "PipelineWorker",
    "StartFrame",
    "TTSSpeakFrame",
    "TextFrame",
    "ToolsSchema",
    "TranscriptionFrame",
    "WorkerRunner",
    "run_test",
    "standard_message_text",
]
