"""Assemble one call's Pipecat pipeline from its pinned template version and effective config.

transport in (provider serializer) → STT → keypad presses as text → user aggregator (Silero
VAD, turn detection) → LLM driven by the template's flow → TTS → transport out → assistant
aggregator, all at the telephony rate of 8 kHz so no resampler adds delay on the way out.
A real LLM has the rules engine behind it (`RulesFallbackLLM`): if it fails, the rules engine
answers from that turn on, and the call records why.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from calls.live.feed import EndRequests, LiveFeed
from calls.selectors import CallContext
from calls.services import call_record_llm_fallback, call_record_turn
from calls.tracing import turn_span_record
from calls.voice.audio_recording import CallAudioRecording, call_audio_recording
from calls.voice.line import LineControl
from calls.voice.recorder import CallRecorder, TurnRecord
from calls.voice.runtime import CallRuntime
from calls.voice.serializers import DEFAULT_OUT_10MS_CHUNKS, OUT_10MS_CHUNKS
from calls.voice.speech import registry
from calls.voice.speech.pocketsphinx_stt import PocketsphinxSTTService
from calls.voice.speech.vad import CallVADAnalyzer
from calls.voice.transport import RelayTransport, Send
from calls.voice.turns import NodeTurnSettings
from calls.voice.writer import CallWriter
from templates_app.definition.transfer import transfer_plan
from templates_app.dialogue.fallback import LLMFailure, RulesFallbackLLM
from templates_app.dialogue.rules_llm import RulesLLMService
from templates_app.flows.builder import BuiltFlow, build_flow
from templates_app.pipecat_compat import (
    BaseTransport,
    DTMFAggregator,
    EndFrame,
    FlowManager,
    Frame,
    FrameDirection,
    FrameProcessor,
    FrameSerializer,
    InputAudioRawFrame,
    LLMContext,
    LLMContextAggregatorPair,
    LLMService,
    LLMUserAggregatorParams,
    Pipeline,
    PipelineParams,
    PipelineWorker,
    TransportParams,
    TTSSpeakFrame,
    UserTurnStrategies,
    VADParams,
    VADParamsUpdateFrame,
)

logger = logging.getLogger(__name__)

TELEPHONY_RATE = 8000
# Keys pressed closer together than this are one entry ("123"); `#` ends an entry at once.
DTMF_ENTRY_GAP_S = 1.0


@dataclass
class CallSession:
    worker: PipelineWorker
    flow: BuiltFlow
    flow_manager: FlowManager
    runtime: CallRuntime
    recorder: CallRecorder
    writer: CallWriter
    vad: CallVADAnalyzer
    turns: NodeTurnSettings
    feed: LiveFeed
    end_requests: EndRequests
    idle_prompts: int = 0
    # Set when the template has the worker record the call (execution.recording).
    audio_recording: CallAudioRecording | None = None


class CustomerAudioStop(FrameProcessor):
    """Ends the customer's audio after the user aggregator, the last processor that uses it.

    Otherwise each 20 ms frame goes on through the LLM switcher's branches, the TTS, the
    output transport and the assistant aggregator, which only pass it along: about two thirds
    of a call's frame hops and a quarter of its CPU (docs/benchmarks.md). Direct mode: it
    runs in the aggregator's task instead of adding a queue and a task of its own. Not used
    when the call is recorded, as the recorder after the output transport needs both sides.
    """

    def __init__(self) -> None:
        super().__init__(enable_direct_mode=True)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if not isinstance(frame, InputAudioRawFrame):
            await self.push_frame(frame, direction)


def _vad_params(settings: dict[str, Any]) -> VADParams:
    vad = settings.get("vad", {})
    return VADParams(
        confidence=vad.get("confidence", 0.7),
        start_secs=vad.get("start_secs", 0.2),
        stop_secs=vad.get("stop_secs", 0.8),
        min_volume=vad.get("min_volume", 0.6),
    )


def node_phrases(definition: dict[str, Any], node: str) -> list[str]:
    """What a customer is expected to say in a node, as a grammar for offline recognition.

    The node's and the global functions' examples; empty (free speech) when a function
    takes any answer.
    """
    functions = [
        function
        for candidate in definition["nodes"]
        if candidate["name"] == node
        for function in candidate.get("functions", [])
    ]
    functions += definition.get("global_functions", [])
    examples = [example for function in functions for example in function.get("examples", [])]
    # A node that takes free answers (a reason, an address) needs the open vocabulary.
    return [] if "*" in examples else examples


def _call_llm(
    context: CallContext, *, flow: BuiltFlow, runtime: CallRuntime, writer: CallWriter
) -> LLMService[Any] | RulesFallbackLLM:
    """The rules engine, or the configured LLM with the rules engine behind it."""
    settings = context.inputs.config.call
    provider = settings.get("llm", {}).get("provider", registry.OFFLINE_LLM)

    def rules_engine() -> RulesLLMService:
        return RulesLLMService(
            functions=flow.function_specs, node_text=flow.node_text, clock=runtime.now
        )

    async def llm_failed(failure: LLMFailure) -> None:
        logger.warning(
            "call %s: the %s LLM failed in node %s (%s: %s); the rules engine answers from now on",
            context.call_id,
            provider,
            runtime.current_node,
            failure.category,
            failure.error,
        )
        writer.write(
            call_record_llm_fallback,
            call_id=context.call_id,
            reason=f"{provider} failed in node {runtime.current_node}: {failure.error}",
        )

    llm = registry.build_llm(settings, credentials=context.credentials, rules_factory=rules_engine)
    if isinstance(llm, RulesLLMService):
        return llm
    return RulesFallbackLLM(llm=llm, rules=rules_engine(), on_fallback=llm_failed)


def build_call_session(
    context: CallContext,
    *,
    serializer: FrameSerializer | None = None,
    inbound: asyncio.Queue[str | None] | None = None,
    send: Send | None = None,
    transport: BaseTransport | None = None,
    ready: asyncio.Event | None = None,
) -> CallSession:
    """One call's session, over the relay (`serializer`, `inbound`, `send`) or `transport`.

    A Daily room brings its own `transport`; its flow waits for `ready` (the client joined),
    so the greeting is not spoken into an empty room.
    """
    settings = context.inputs.config.call
    feed = LiveFeed(call_id=context.call_id)
    writer = CallWriter(on_written=feed.written)
    vad = registry.build_vad_analyzer(sample_rate=TELEPHONY_RATE, params=_vad_params(settings))
    stt = registry.build_stt(settings, credentials=context.credentials, sample_rate=TELEPHONY_RATE)

    turns = NodeTurnSettings()
    turns.apply(settings)

    async def apply_node_settings(node: str, node_settings: dict[str, Any]) -> None:
        # Reset-then-apply happened in the resolver (EffectiveConfig.for_node); here the
        # result takes effect live. The VAD changes in order with the audio reaching it.
        await worker.queue_frame(VADParamsUpdateFrame(params=_vad_params(node_settings)))
        turns.apply(node_settings)
        if isinstance(stt, PocketsphinxSTTService):
            stt.set_phrases(node_phrases(context.inputs.definition, node))

    runtime = CallRuntime(
        call_id=context.call_id,
        time_zone=context.time_zone,
        writer=writer,
        apply_node_settings=apply_node_settings,
        transfer=transfer_plan(context.inputs.definition),
        keep_line=LineControl(serializer).keep,
    )
    flow = build_flow(
        context.inputs,
        runtime=runtime,
        greeting_in_first_reply=settings.get("llm", {}).get("provider", "rules") == "rules",
    )
    llm = _call_llm(context, flow=flow, runtime=runtime, writer=writer)
    tts = registry.build_tts(settings, credentials=context.credentials, sample_rate=TELEPHONY_RATE)
    if transport is None:
        if serializer is None or inbound is None or send is None:
            raise ValueError("a relay call needs serializer, inbound and send")
        transport = RelayTransport(
            TransportParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                audio_in_sample_rate=TELEPHONY_RATE,
                audio_out_sample_rate=TELEPHONY_RATE,
                audio_out_10ms_chunks=OUT_10MS_CHUNKS.get(
                    context.provider, DEFAULT_OUT_10MS_CHUNKS
                ),
            ),
            inbound=inbound,
            send=send,
            serializer=serializer,
            quiet=vad.resting,
        )
    idle = settings.get("user_idle", {})
    aggregators = LLMContextAggregatorPair(
        LLMContext(),
        user_params=LLMUserAggregatorParams(
            vad_analyzer=vad,
            user_turn_strategies=UserTurnStrategies(start=[turns.start], stop=[turns.stop]),
            user_idle_timeout=float(idle.get("timeout", 0)) if idle.get("enabled") else 0.0,
        ),
    )

    def record_turn(record: TurnRecord) -> None:
        index = len(recorder.turns) - 1
        turn_span_record(record, index=index)
        writer.write(
            call_record_turn,
            call_id=context.call_id,
            index=index,
            speaker=record.speaker,
            text=record.text,
            node=record.node,
            function_called=record.function_called,
            started_offset_ms=record.started_offset_ms,
            ended_offset_ms=record.ended_offset_ms,
            latency=record.latency,
        )

    recorder = CallRecorder(current_node=lambda: runtime.current_node, on_turn=record_turn)
    audio_recording = call_audio_recording(context, sample_rate=TELEPHONY_RATE)
    pipeline = Pipeline(
        [
            transport.input(),
            stt,
            DTMFAggregator(timeout=DTMF_ENTRY_GAP_S),
            aggregators.user(),
            *([] if audio_recording else [CustomerAudioStop()]),
            llm,
            tts,
            transport.output(),
            *([audio_recording.processor] if audio_recording else []),
            aggregators.assistant(),
        ]
    )
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(
            audio_in_sample_rate=TELEPHONY_RATE,
            audio_out_sample_rate=TELEPHONY_RATE,
            enable_metrics=True,
            # Token counts, for each LLM turn's generation in Langfuse.
            enable_usage_metrics=True,
        ),
        observers=[recorder],
        # Pipecat's turn-tracking observer feeds only its own tracing, which Breeze does not
        # use (turns are the recorder's); like every observer it was handed each frame at
        # every processor through a queue and a task of its own.
        enable_turn_tracking=False,
        idle_timeout_secs=None,
        cancel_on_idle_timeout=False,
        enable_rtvi=False,
    )
    flow_manager = FlowManager(
        llm=llm,
        context_aggregator=aggregators,
        worker=worker,
        global_functions=flow.global_functions,
    )

    async def end_by_operator(requested_by: str) -> None:
        logger.info("call %s: ended from the admin by %s", context.call_id, requested_by)
        runtime.end_reason = "operator_ended"
        await worker.queue_frame(EndFrame())

    end_requests = EndRequests(call_id=context.call_id, on_end=end_by_operator)
    session = CallSession(
        worker,
        flow,
        flow_manager,
        runtime,
        recorder,
        writer,
        vad,
        turns,
        feed,
        end_requests,
        audio_recording=audio_recording,
    )

    async def start_flow(_worker: PipelineWorker, _frame: Any) -> None:
        if ready is not None:
            await ready.wait()
        await flow_manager.initialize(await flow.enter(flow.initial_node))

    async def customer_idle(_aggregator: Any) -> None:
        if session.idle_prompts < int(idle.get("retries", 2)):
            session.idle_prompts += 1
            await worker.queue_frame(
                TTSSpeakFrame(flow.text(idle.get("message", "Are you still there?")))
            )
            return
        runtime.end_reason = "customer_idle"
        await worker.queue_frame(EndFrame())

    worker.add_event_handler("on_pipeline_started", start_flow)
    aggregators.user().add_event_handler("on_user_turn_idle", customer_idle)
    return session
