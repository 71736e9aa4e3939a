"""How a template hands a call to a person, and what it does when a machine answers.

`transfer`: `mode` cold (the provider dials the agent in place of the bot) or warm (the agent
is dialled and briefed while the bot holds the customer, then both meet in a conference);
`number` (the older top-level `transfer_number` still works, as a cold transfer);
`no_answer` when a warm transfer's agent does not pick up: `return_to_bot` (the
conversation goes on at `return_node`, by default the node that asked for the transfer) or
`end` (the bot says `no_answer_message` and hangs up); `ring_timeout` in seconds.

`voicemail`: present, it asks the provider for answering-machine detection; `action`
`hangup` ends the call at once, `message` has the bot say `message` (with variables) first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

DEFAULT_RING_TIMEOUT = 30
DEFAULT_NO_ANSWER_MESSAGE = "Sorry, nobody can take your call right now."


@dataclass(frozen=True)
class TransferPlan:
    mode: Literal["cold", "warm"]
    number: str
    no_answer: Literal["return_to_bot", "end"]
    no_answer_message: str
    return_node: str
    ring_timeout: int


@dataclass(frozen=True)
class VoicemailPlan:
    action: Literal["hangup", "message"]
    message: str


def transfer_plan(definition: Mapping[str, Any]) -> TransferPlan | None:
    """The template's transfer settings, or None when it names no number to transfer to."""
    config: Mapping[str, Any] = definition.get("transfer") or {}
    number = str(config.get("number") or definition.get("transfer_number") or "")
    if not number:
        return None
    return TransferPlan(
        mode="warm" if config.get("mode") == "warm" else "cold",
        number=number,
        no_answer="end" if config.get("no_answer") == "end" else "return_to_bot",
        no_answer_message=str(config.get("no_answer_message") or DEFAULT_NO_ANSWER_MESSAGE),
        return_node=str(config.get("return_node") or ""),
        ring_timeout=int(config.get("ring_timeout") or DEFAULT_RING_TIMEOUT),
    )


def voicemail_plan(definition: Mapping[str, Any]) -> VoicemailPlan | None:
    """What to do on an answering machine; None: the template asks for no detection."""
    config: Mapping[str, Any] | None = definition.get("voicemail")
    if not config:
        return None
    message = str(config.get("message") or "")
    if config.get("action") == "message":
        return VoicemailPlan(action="message", message=message)
    return VoicemailPlan(action="hangup", message=message)
