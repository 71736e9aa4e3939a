from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from templates_app.dialogue.matching import FunctionSpec, Match
from templates_app.dialogue.rules_llm import DEFAULT_REPROMPT, RulesLLMService
from templates_app.dialogue.text_session import TextConversation, run_text_conversation
from templates_app.pipecat_compat import (
    FlowArgs,
    FlowManager,
    FlowResult,
    FlowsFunctionSchema,
    Frame,
    FunctionCallParams,
    FunctionCallsStartedFrame,
    FunctionSchema,
    LLMContext,
    LLMContextFrame,
    LLMContextMessage,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    NodeConfig,
    ToolsSchema,
    run_test,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata"))  # a Wednesday
DATE = {"type": "string", "format": "date"}
CATALOGUE = {
    spec.name: spec
    for spec in (
        FunctionSpec("confirm_order", examples=("yes", "confirm")),
        FunctionSpec("cancel_order", examples=("cancel", "cancel my order")),
        FunctionSpec(
            "reschedule",
            properties={"delivery_date": DATE},
            required=("delivery_date",),
            examples=("deliver it on", "reschedule", "change the delivery date"),
        ),
    )
}
ASK = "Your order of two shirts is ready. Shall I confirm it?"
TASK_MESSAGE = {"role": "developer", "content": "Ask the customer to confirm."}
TASK: LLMContextMessage = {"role": "developer", "content": TASK_MESSAGE["content"]}


def user(text: str) -> LLMContextMessage:
    return {"role": "user", "content": text}


async def acknowledge(params: FunctionCallParams) -> None:
    await params.result_callback({"status": "ok"})


def context(*messages: LLMContextMessage, offered: Sequence[str] = tuple(CATALOGUE)) -> LLMContext:
    schemas = [FunctionSchema(name, name, {}, [], handler=acknowledge) for name in offered]
    return LLMContext(messages=list(messages), tools=ToolsSchema(standard_tools=schemas))


def responses(frames: Sequence[Frame]) -> list[str]:
    summary: list[str] = []
    for frame in frames:
        if isinstance(frame, LLMFullResponseStartFrame):
            summary.append("start")
        elif isinstance(frame, LLMTextFrame):
            summary.append(f"say {frame.text}")
        elif isinstance(frame, FunctionCallsStartedFrame):
            summary.extend(
                f"call {call.function_name} {call.tool_call_id} {dict(call.arguments)}"
                for call in frame.function_calls
            )
        elif isinstance(frame, LLMFullResponseEndFrame):
            summary.append("end")
    return summary


async def run_llm(llm: RulesLLMService, *contexts: LLMContext) -> list[str]:
    frames = [LLMContextFrame(context=each) for each in contexts]
    down, _ = await run_test(llm, frames_to_send=frames)
    return responses(down)


def make_llm(node_text: str = ASK) -> RulesLLMService:
    return RulesLLMService(functions=CATALOGUE, node_text=lambda: node_text, clock=lambda: NOW)


@pytest.mark.parametrize(
    ("_case", "llm_context", "node_text", "expected"),
    [
        ("node entry speaks the node", context(TASK), ASK, ["start", f"say {ASK}", "end"]),
        (
            "unmatched turn re-prompts",
            context(TASK, user("what's the weather like?")),
            ASK,
            ["start", f"say {DEFAULT_REPROMPT}", "end"],
        ),
        (
            "only offered functions count",
            context(TASK, user("cancel it"), offered=["confirm_order"]),
            ASK,
            ["start", f"say {DEFAULT_REPROMPT}", "end"],
        ),
        ("empty node text says nothing", context(TASK), "", ["start", "end"]),
        (
            "function result asks for the node again",
            context(TASK, user("yes"), {"role": "tool", "content": "ok", "tool_call_id": "x"}),
            ASK,
            ["start", f"say {ASK}", "end"],
        ),
    ],
)
async def test_rules_llm_speaks(
    _case: str, llm_context: LLMContext, node_text: str, expected: list[str]
) -> None:
    llm = make_llm(node_text)

    assert await run_llm(llm, llm_context) == expected
    assert llm.last_match is None


async def test_rules_llm_calls_the_matched_function_with_arguments() -> None:
    llm = make_llm()

    spoken = await run_llm(llm, context(TASK, user("Please deliver it on Friday")))

    assert spoken == ["start", "call reschedule rules-1 {'delivery_date': '2026-11-27'}", "end"]
    assert llm.last_match == Match("reschedule", 0.9, {"delivery_date": "2026-11-27"})


async def test_rules_llm_answers_each_customer_turn_once() -> None:
    llm = make_llm()
    first = context(TASK, user("yes"))
    second = context(TASK, user("yes"), {"role": "assistant", "content": ASK}, user("yes"))

    spoken = await run_llm(llm, first, first, second)

    assert spoken == [
        *["start", "call confirm_order rules-1 {}", "end"],
        *["start", f"say {ASK}", "end"],
        *["start", "call confirm_order rules-2 {}", "end"],
    ]


async def confirm_order(args: FlowArgs, flow_manager: FlowManager) -> tuple[None, NodeConfig]:
    return None, end_node("confirmed", "Great, your order is confirmed.")


async def cancel_order(args: FlowArgs, flow_manager: FlowManager) -> tuple[None, NodeConfig]:
    return None, end_node("cancelled", "Okay, I have cancelled your order.")


async def reschedule(args: FlowArgs, flow_manager: FlowManager) -> tuple[FlowResult, None]:
    flow_manager.state["delivery_date"] = args["delivery_date"]
    return {"status": "rescheduled"}, None


def end_node(name: str, say: str) -> NodeConfig:
    return {
        "name": name,
        "task_messages": [{"role": "developer", "content": "Thank the customer."}],
        "pre_actions": [{"type": "tts_say", "text": say}],
        "post_actions": [{"type": "end_conversation"}],
    }


def greet_node() -> NodeConfig:
    return {
        "name": "greet",
        "task_messages": [TASK_MESSAGE],
        "functions": [
            FlowsFunctionSchema("confirm_order", "Customer confirms.", {}, [], confirm_order),
            FlowsFunctionSchema("cancel_order", "Customer cancels.", {}, [], cancel_order),
            FlowsFunctionSchema(
                "reschedule",
                "Customer picks another delivery date.",
                {"delivery_date": DATE},
                ["delivery_date"],
                reschedule,
            ),
        ],
    }


def node_text(flow_manager: FlowManager) -> str:
    if flow_manager.current_node == "greet" and "delivery_date" in flow_manager.state:
        return f"Delivery moved to {flow_manager.state['delivery_date']}. Shall I confirm it?"
    texts = {"greet": ASK, "confirmed": "Thank you for shopping with us.", "cancelled": ""}
    return texts[flow_manager.current_node or ""]


CONFIRMED = ["Great, your order is confirmed.", "Thank you for shopping with us."]


@pytest.mark.parametrize(
    ("_case", "user_turns", "expected"),
    [
        (
            "confirm ends the call",
            ["yes please"],
            TextConversation([ASK, *CONFIRMED], True, ["greet", "confirmed"], {}),
        ),
        (
            "cancel node has no text of its own",
            ["no, cancel my order"],
            TextConversation(
                [ASK, "Okay, I have cancelled your order."], True, ["greet", "cancelled"], {}
            ),
        ),
        (
            "unmatched turn re-prompts and stays",
            ["what's the weather like?"],
            TextConversation([ASK, DEFAULT_REPROMPT], False, ["greet"], {}),
        ),
        (
            "node function stays and speaks the node again",
            ["can you deliver it on friday"],
            TextConversation(
                [ASK, "Delivery moved to 2026-11-27. Shall I confirm it?"],
                False,
                ["greet"],
                {"delivery_date": "2026-11-27"},
            ),
        ),
        (
            "whole conversation",
            ["hmm", "change the delivery date to monday", "no, don't cancel, confirm it"],
            TextConversation(
                [
                    ASK,
                    DEFAULT_REPROMPT,
                    "Delivery moved to 2026-11-30. Shall I confirm it?",
                    *CONFIRMED,
                ],
                True,
                ["greet", "confirmed"],
                {"delivery_date": "2026-11-30"},
            ),
        ),
        (
            "turns after the end are not sent",
            ["confirm", "hello?"],
            TextConversation([ASK, *CONFIRMED], True, ["greet", "confirmed"], {}),
        ),
        ("no turns at all", [], TextConversation([ASK], False, ["greet"], {})),
    ],
)
async def test_run_text_conversation(
    _case: str, user_turns: list[str], expected: TextConversation
) -> None:
    conversation = await run_text_conversation(
        initial_node=greet_node(),
        functions=CATALOGUE,
        node_text=node_text,
        user_turns=user_turns,
        clock=lambda: NOW,
    )

    assert conversation == expected


async def test_run_text_conversation_offers_global_functions() -> None:
    async def repeat(args: FlowArgs, flow_manager: FlowManager) -> tuple[FlowResult, None]:
        return {"status": "repeated"}, None

    catalogue = {**CATALOGUE, "repeat": FunctionSpec("repeat", examples=("say that again",))}

    conversation = await run_text_conversation(
        initial_node=greet_node(),
        global_functions=[FlowsFunctionSchema("repeat", "Repeat.", {}, [], repeat)],
        functions=catalogue,
        node_text=node_text,
        user_turns=["sorry, can you say that again?"],
        clock=lambda: NOW,
    )

    assert conversation == TextConversation([ASK, ASK], False, ["greet"], {})


async def test_run_text_conversation_times_out_when_the_bot_never_replies() -> None:
    async def go_quiet(args: FlowArgs, flow_manager: FlowManager) -> tuple[None, NodeConfig]:
        return None, {
            "name": "quiet",
            "task_messages": [TASK_MESSAGE],
            "respond_immediately": False,
        }

    node = greet_node()
    node["functions"] = [FlowsFunctionSchema("confirm_order", "Confirms.", {}, [], go_quiet)]

    with pytest.raises(
        TimeoutError,
        match=r"timed out after 0\.5s waiting for the bot's reply to turn 1 \('yes'\)",
    ):
        await run_text_conversation(
            initial_node=node,
            functions=CATALOGUE,
            node_text=node_text,
            user_turns=["yes", "hello?"],
            clock=lambda: NOW,
            timeout=0.5,
        )
