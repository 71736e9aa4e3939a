"""Turn a published template version plus a call's variables into a running Pipecat flow.

Every node is built when it is entered, so its texts are filled from the call's variables and
its settings are reset to the template's values before the node's overrides are applied.
Handlers report every effect to a `FlowRuntime`; they never touch the ORM or network directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from config.call_config import EffectiveConfig
from templates_app.definition.transfer import transfer_plan
from templates_app.definition.variables import render
from templates_app.dialogue.matching import DTMF_PREFIX, FunctionSpec
from templates_app.flows.factory import FlowInputs
from templates_app.flows.http import http_request_from_config
from templates_app.flows.runtime import FlowRuntime
from templates_app.pipecat_compat import (
    ActionConfig,
    FlowArgs,
    FlowManager,
    FlowsDirectFunction,
    FlowsFunctionSchema,
    NodeConfig,
)

logger = logging.getLogger(__name__)

# Synthetic nodes the builder adds for builtins that end the bot's part of the call.
END_NODE = "__end__"
HOLD_NODE = "__hold__"
Handler = Any  # a Pipecat Flows handler: async (args, flow_manager) -> (result, next node)


class BuiltFlow:
    def __init__(
        self,
        definition: Mapping[str, Any],
        *,
        variables: Mapping[str, str],
        runtime: FlowRuntime,
        config: EffectiveConfig,
        greeting_in_first_reply: bool = False,
    ) -> None:
        self.definition = definition
        # On a phone line a pause between greeting and question reads as "your turn"; an
        # engine that answers instantly says both in one breath instead.
        self.greeting_in_first_reply = greeting_in_first_reply
        self._pending_greeting = ""
        self.variables = dict(variables)
        self.runtime = runtime
        self.config = config
        self.nodes = {node["name"]: node for node in definition["nodes"]}
        self.current_node: str | None = None
        # The node a warm transfer left, where the conversation resumes if nobody answers.
        self.transfer_from = ""
        self._greeted = False
        self._background: set[asyncio.Task[Any]] = set()
        self.global_functions: list[FlowsFunctionSchema | FlowsDirectFunction] = [
            self._global_schema(f) for f in definition.get("global_functions", [])
        ]
        self.function_specs = self._function_specs()

    @property
    def initial_node(self) -> str:
        name: str = self.definition["initial_node"]
        return name

    def text(self, value: str) -> str:
        return render(value, self.variables)

    def node_text(self, name: str | None = None) -> str:
        """What the rules engine says in a node: its `say`, else its task text."""
        node = self.nodes.get(name or self.current_node or "")
        if node is None:
            return ""
        text = self.text(node.get("say") or " ".join(node["task_messages"]))
        greeting, self._pending_greeting = self._pending_greeting, ""
        return f"{greeting} {text}" if greeting else text

    async def enter(self, name: str) -> NodeConfig:
        node = self.nodes[name]
        self.current_node = name
        await self.runtime.node_entered(node=name, settings=self.config.for_node(node))
        pre_actions = [self._action(action) for action in node.get("pre_actions", [])]
        if name == self.initial_node and not self._greeted and self.definition.get("greeting"):
            self._greeted = True
            greeting = self.text(self.definition["greeting"])
            if self.greeting_in_first_reply:
                self._pending_greeting = greeting
            else:
                pre_actions.insert(0, {"type": "tts_say", "text": greeting})
        config: NodeConfig = {
            "name": name,
            "task_messages": [
                {"role": "developer", "content": self.text(message)}
                for message in node["task_messages"]
            ],
            "functions": [
                self._node_schema(name, function) for function in node.get("functions", [])
            ],
            "pre_actions": pre_actions,
            "post_actions": [self._action(action) for action in node.get("post_actions", [])],
        }
        if node.get("role_message"):
            config["role_message"] = self.text(node["role_message"])
        return config

    async def end_node(self, message: str | None) -> NodeConfig:
        """A last node that says `message` and ends the bot's side of the call."""
        self.current_node = END_NODE
        await self.runtime.node_entered(node=END_NODE, settings=self.config.call)
        actions: list[ActionConfig] = []
        if message:
            actions.append({"type": "tts_say", "text": self.text(message)})
        actions.append({"type": "end_conversation"})
        return {
            "name": END_NODE,
            "task_messages": [{"role": "developer", "content": "The call is ending."}],
            "functions": [],
            "pre_actions": actions,
            "respond_immediately": False,
        }

    async def hold_node(self, message: str | None) -> NodeConfig:
        """Where the bot waits, saying `message`, while a warm transfer's agent is rung."""
        self.transfer_from = self.current_node or self.initial_node
        self.current_node = HOLD_NODE
        await self.runtime.node_entered(node=HOLD_NODE, settings=self.config.call)
        actions: list[ActionConfig] = []
        if message:
            actions.append({"type": "tts_say", "text": self.text(message)})
        return {
            "name": HOLD_NODE,
            "task_messages": [
                {
                    "role": "developer",
                    "content": "An agent is being called. Ask the customer to stay on the line.",
                }
            ],
            "functions": [],
            "pre_actions": actions,
            "respond_immediately": False,
        }

    async def resume_after_transfer(self) -> NodeConfig:
        """The node the conversation goes on at when a warm transfer's agent did not answer."""
        plan = transfer_plan(self.definition)
        return await self.enter((plan and plan.return_node) or self.transfer_from)

    def _transfer_number(self) -> str:
        plan = transfer_plan(self.definition)
        # Validation refuses transfer_to_agent in a template without a number.
        return plan.number if plan else ""

    async def drain(self) -> None:
        """Wait for fire-and-forget hooks (tests and the playground; a call never waits)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _function_specs(self) -> dict[str, FunctionSpec]:
        functions = [f for node in self.nodes.values() for f in node.get("functions", [])]
        functions += list(self.definition.get("global_functions", []))
        return {
            f["name"]: FunctionSpec(
                name=f["name"],
                description=f.get("description", ""),
                properties=f.get("properties", {}),
                required=tuple(f.get("required", [])),
                examples=tuple(f.get("examples", [])),
                dtmf=f.get("dtmf", ""),
            )
            for f in functions
        }

    def _action(self, action: Mapping[str, Any]) -> ActionConfig:
        if action["type"] == "tts_say":
            return {"type": "tts_say", "text": self.text(action["text"])}
        if action["type"] == "end_conversation":
            if action.get("text"):
                return {"type": "end_conversation", "text": self.text(action["text"])}
            return {"type": "end_conversation"}
        return {"type": "function", "handler": self._action_handler(action["handler"])}

    def _action_handler(self, name: str) -> Handler:
        async def run(action: dict[str, Any], flow_manager: FlowManager) -> None:
            await self.runtime.function_called(
                node=self.current_node or "", function=name, arguments={}
            )
            if name == "transfer_to_agent":
                await self.runtime.transfer_requested(number=self._transfer_number())
            elif name == "end_call":
                await self.runtime.end_requested(reason="template_action")
            else:
                spec = next(
                    f for f in self.definition.get("global_functions", []) if f["name"] == name
                )
                if spec["type"] == "http":
                    await self.runtime.http_request(
                        request=http_request_from_config(spec["http"], self.variables)
                    )

        return run

    def _node_schema(self, node_name: str, function: Mapping[str, Any]) -> FlowsFunctionSchema:
        target = function.get("transition_to")
        hooks = list(function.get("hooks", []))

        async def handler(
            args: FlowArgs, flow_manager: FlowManager
        ) -> tuple[dict[str, Any], NodeConfig | None]:
            arguments = dict(args)
            await self.runtime.function_called(
                node=node_name, function=function["name"], arguments=arguments
            )
            for hook in hooks:
                await self._run_hook(hook, arguments)
            next_node = await self.enter(target) if target else None
            return {"status": "done", **arguments}, next_node

        return FlowsFunctionSchema(
            name=function["name"],
            description=self._description(function),
            properties=dict(function.get("properties", {})),
            required=list(function.get("required", [])),
            handler=handler,
            # A transition must finish before the bot speaks again; the call waits for it.
            cancel_on_interruption=True,
        )

    def _global_schema(self, function: Mapping[str, Any]) -> FlowsFunctionSchema:
        async def handler(
            args: FlowArgs, flow_manager: FlowManager
        ) -> tuple[dict[str, Any], NodeConfig | None]:
            arguments = dict(args)
            node = self.current_node or ""
            await self.runtime.function_called(
                node=node, function=function["name"], arguments=arguments
            )
            for hook in function.get("hooks", []):
                await self._run_hook(hook, arguments)
            if function["type"] == "http":
                request = http_request_from_config(
                    function["http"], {**self.variables, **_as_text(arguments)}
                )
                result = await self.runtime.http_request(request=request)
                target = function.get("transition_to")
                outcome = {"status": result.status, "ok": result.ok, "body": result.body}
                return outcome, (await self.enter(target) if target else None)
            return await self._run_builtin(function, arguments)

        return FlowsFunctionSchema(
            name=function["name"],
            description=self._description(function),
            properties=dict(function.get("properties", {})),
            required=list(function.get("required", [])),
            handler=handler,
            cancel_on_interruption=True,
        )

    def _description(self, function: Mapping[str, Any]) -> str:
        description = self.text(function["description"])
        if not function.get("dtmf"):
            return description
        # An LLM sees key presses only as transcript text; tell it which ones mean this.
        keys = function["dtmf"]
        return f"{description} Also call it when the customer presses {keys} ({DTMF_PREFIX}{keys})."

    async def _run_builtin(
        self, function: Mapping[str, Any], arguments: dict[str, Any]
    ) -> tuple[dict[str, Any], NodeConfig | None]:
        handler = function["handler"]
        if handler == "get_current_time":
            now = self.runtime.now()
            return {"time": now.strftime("%H:%M"), "date": now.date().isoformat()}, None
        if handler == "transfer_to_agent":
            if await self.runtime.transfer_requested(number=self._transfer_number()):
                return {"status": "holding"}, await self.hold_node(function.get("message"))
            return {"status": "transferring"}, await self.end_node(function.get("message"))
        await self.runtime.end_requested(reason="customer_requested")
        return {"status": "ending"}, await self.end_node(function.get("message"))

    async def _run_hook(self, hook: Mapping[str, Any], arguments: Mapping[str, Any]) -> None:
        if hook["type"] == "update_outcome":
            fields = {
                name: value
                for name, source in hook.get("fields", {}).items()
                if (value := self._field_value(name, source, arguments)) is not None
            }
            await self.runtime.outcome_updated(outcome=hook["outcome"], fields=fields)
            return
        request = http_request_from_config(hook["http"], {**self.variables, **_as_text(arguments)})
        # Hooks never hold up the conversation; a failure is logged by the runtime.
        task = asyncio.create_task(self.runtime.http_request(request=request))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _field_value(
        self, name: str, source: Mapping[str, Any], arguments: Mapping[str, Any]
    ) -> Any:
        if source["source"] == "static":
            value = source["value"]
            return self.text(value) if isinstance(value, str) else value
        if source["source"] == "llm":
            return arguments.get(source.get("argument", name))
        now = self.runtime.now()
        computed = {
            "now": now.isoformat(),
            "today": now.date().isoformat(),
            "call_id": self.variables.get("call_id", ""),
        }
        return computed[source["value"]]


def _as_text(arguments: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in arguments.items()}


def build_flow(
    inputs: FlowInputs, *, runtime: FlowRuntime, greeting_in_first_reply: bool = False
) -> BuiltFlow:
    return BuiltFlow(
        inputs.definition,
        variables=inputs.variables,
        runtime=runtime,
        config=inputs.config,
        greeting_in_first_reply=greeting_in_first_reply,
    )
