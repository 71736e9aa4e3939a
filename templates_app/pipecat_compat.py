"""The one module through which the project imports Pipecat (pipecat-ai 1.14.0).

Every import path below was checked against the installed 1.14.0 source, so a Pipecat
upgrade only has to fix this file. `run_test` is Pipecat's own harness for driving one
processor, re-exported for the tests. Flows come from `pipecat.flows` inside pipecat-ai; the
deprecated `pipecat-ai-flows` package is never used.
"""

from __future__ import annotations

from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.utils import create_file_resampler, pcm_to_wav
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState
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
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    CancelWorkerFrame,
    ControlFrame,
    EndFrame,
    EndWorkerFrame,
    ErrorFrame,
    Frame,
    FunctionCallFromLLM,
    FunctionCallInProgressFrame,
    FunctionCallsStartedFrame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterimTranscriptionFrame,
    InterruptionFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMMessagesAppendFrame,
    LLMRunFrame,
    LLMSetToolsFrame,
    LLMTextFrame,
    MetricsFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
    StartFrame,
    TextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADParamsUpdateFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.metrics.metrics import (
    LLMUsageMetricsData,
    ProcessingMetricsData,
    TTFBMetricsData,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.pipeline.llm_switcher import LLMSwitcher
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.service_switcher import ServiceSwitcherStrategyManual
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.dtmf_aggregator import DTMFAggregator
from pipecat.processors.aggregators.llm_context import (
    LLMContext,
    LLMContextMessage,
    standard_message_text,
)
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregator,
    LLMUserAggregatorParams,
)
from pipecat.processors.audio.audio_buffer_processor import AudioBufferProcessor
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.processors.filters.identity_filter import IdentityFilter
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor, FrameProcessorSetup
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.serializers.exotel import ExotelFrameSerializer
from pipecat.serializers.plivo import PlivoFrameSerializer
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.services.llm_service import FunctionCallParams, LLMService
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.settings import LLMSettings, ServiceSettings, STTSettings, TTSSettings
from pipecat.services.stt_service import SegmentedSTTService, STTService
from pipecat.services.tts_service import TTSService
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.transcriptions.language import Language
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams
from pipecat.transports.daily.transport import DailyParams, DailyTransport
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_start import (
    BaseUserTurnStartStrategy,
    MinWordsUserTurnStartStrategy,
    TranscriptionUserTurnStartStrategy,
    VADUserTurnStartStrategy,
)
from pipecat.turns.user_stop import SpeechTimeoutUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import ExternalUserTurnStrategies, UserTurnStrategies
from pipecat.utils.errors import ErrorCategory
from pipecat.utils.time import time_now_iso8601
from pipecat.workers.runner import WorkerRunner

__all__ = [
    "ActionConfig",
    "AudioBufferProcessor",
    "BaseInputTransport",
    "BaseObserver",
    "BaseOutputTransport",
    "BaseTransport",
    "BaseUserTurnStartStrategy",
    "BotStartedSpeakingFrame",
    "BotStoppedSpeakingFrame",
    "CancelFrame",
    "CancelWorkerFrame",
    "ContextStrategy",
    "ContextStrategyConfig",
    "ControlFrame",
    "DTMFAggregator",
    "DailyParams",
    "DailyTransport",
    "EndFrame",
    "EndWorkerFrame",
    "ErrorCategory",
    "ErrorFrame",
    "ExotelFrameSerializer",
    "ExternalUserTurnStrategies",
    "FlowArgs",
    "FlowManager",
    "FlowResult",
    "FlowsDirectFunction",
    "FlowsFunctionSchema",
    "Frame",
    "FrameDirection",
    "FrameProcessor",
    "FrameProcessorSetup",
    "FramePushed",
    "FrameSerializer",
    "FunctionCallFromLLM",
    "FunctionCallInProgressFrame",
    "FunctionCallParams",
    "FunctionCallsStartedFrame",
    "FunctionSchema",
    "IdentityFilter",
    "InputAudioRawFrame",
    "InputDTMFFrame",
    "InterimTranscriptionFrame",
    "InterruptionFrame",
    "LLMContext",
    "LLMContextAggregatorPair",
    "LLMContextFrame",
    "LLMContextMessage",
    "LLMFullResponseEndFrame",
    "LLMFullResponseStartFrame",
    "LLMMessagesAppendFrame",
    "LLMRunFrame",
    "LLMService",
    "LLMSetToolsFrame",
    "LLMSettings",
    "LLMSwitcher",
    "LLMTextFrame",
    "LLMUsageMetricsData",
    "LLMUserAggregator",
    "LLMUserAggregatorParams",
    "Language",
    "LocalSmartTurnAnalyzerV3",
    "MetricsFrame",
    "MinWordsUserTurnStartStrategy",
    "NodeConfig",
    "OutputAudioRawFrame",
    "OutputTransportMessageFrame",
    "OutputTransportMessageUrgentFrame",
    "Pipeline",
    "PipelineParams",
    "PipelineWorker",
    "PiperTTSService",
    "PlivoFrameSerializer",
    "ProcessFrameResult",
    "ProcessingMetricsData",
    "STTService",
    "STTSettings",
    "SegmentedSTTService",
    "ServiceSettings",
    "ServiceSwitcherStrategyManual",
    "SileroVADAnalyzer",
    "SleepFrame",
    "SpeechTimeoutUserTurnStopStrategy",
    "StartFrame",
    "TTFBMetricsData",
    "TTSAudioRawFrame",
    "TTSService",
    "TTSSettings",
    "TTSSpeakFrame",
    "TTSStartedFrame",
    "TTSStoppedFrame",
    "TextFrame",
    "ToolsSchema",
    "TranscriptionFrame",
    "TranscriptionUserTurnStartStrategy",
    "TransportParams",
    "TwilioFrameSerializer",
    "UserStartedSpeakingFrame",
    "UserStoppedSpeakingFrame",
    "UserTurnStrategies",
    "VADParams",
    "VADParamsUpdateFrame",
    "VADProcessor",
    "VADState",
    "VADUserStartedSpeakingFrame",
    "VADUserStoppedSpeakingFrame",
    "VADUserTurnStartStrategy",
    "WorkerRunner",
    "create_file_resampler",
    "pcm_to_wav",
    "run_test",
    "standard_message_text",
    "time_now_iso8601",
]
