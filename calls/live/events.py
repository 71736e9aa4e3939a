"""What a live call tells its watchers, and the channel-layer groups it travels through.

The worker publishes to `live_group(call_id)` after each write; the admin's live consumer
forwards the events to the browser. An operator's request to end the call goes the other way,
to `control_group(call_id)`, where the call's worker listens.
"""

from __future__ import annotations

from typing import Any, TypedDict

from calls.models import Call, Turn

# The channel-layer message type; the live consumer's handler is named after it.
LIVE_EVENT = "live.event"
END_REQUEST = "call.end"


def live_group(call_id: int) -> str:
    return f"live.call.{call_id}"


def control_group(call_id: int) -> str:
    return f"live.call.{call_id}.control"


class TurnData(TypedDict):
    index: int
    speaker: str
    text: str
    node: str
    function_called: str
    latency_ms: int | None
    stt_ms: int | None
    llm_ms: int | None
    tts_ms: int | None


def turn_data(turn: Turn) -> TurnData:
    return {
        "index": turn.index,
        "speaker": turn.speaker,
        "text": turn.text,
        "node": turn.node,
        "function_called": turn.function_called,
        "latency_ms": turn.latency_ms,
        "stt_ms": turn.stt_ms,
        "llm_ms": turn.llm_ms,
        "tts_ms": turn.tts_ms,
    }


def turn_event(turn: Turn) -> dict[str, Any]:
    return {"type": "turn", "turn": turn_data(turn)}


def node_event(node: str) -> dict[str, Any]:
    return {"type": "node", "node": node}


def outcome_event(outcome: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "outcome", "outcome": outcome, "fields": fields}


def status_event(*, status: str, disposition: str = "", end_reason: str = "") -> dict[str, Any]:
    return {
        "type": "status",
        "status": status,
        "disposition": disposition,
        "end_reason": end_reason,
    }


def call_status_event(call: Call) -> dict[str, Any]:
    return status_event(
        status=call.status, disposition=call.disposition, end_reason=call.end_reason
    )
