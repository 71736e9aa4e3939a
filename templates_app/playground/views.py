"""The template playground: chat in text with any version, through the real flow, safely.

The browser keeps the customer's turns and sends them all with each new one; the server
replays the conversation from the start, so no conversation state is stored. The rules engine
answers unless the template (or a flag) configures a real LLM: then that LLM answers, built
exactly as a call builds it; if it fails, the rules engine answers from then on as in a call,
and if it cannot be built or the replay runs out of time the rules engine answers the whole
replay; either way a note says why. A real LLM's replies may differ between replays; the rules
engine's never. A `RecordingRuntime` stands in for the world: outcomes, HTTP calls and
transfers are shown, never performed, and no lead, outcome or metric is touched.
"""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import asdict
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.module_loading import import_string

from config.exceptions import ApplicationError
from config.ids import parse_id
from config.selectors import provider_credentials_for_merchant
from templates_app.definition.variables import PLACEHOLDER, example_payload
from templates_app.exceptions import TemplateValidationError
from templates_app.flows.factory import FlowInputs, flow_inputs_for_version
from templates_app.models import Template, TemplateVersion
from templates_app.selectors import template_version_draft, template_version_published

MAX_TURNS = 40
PLAYGROUND_MODE = "TELEPHONY_TEST"
RULES = "rules"


def playground_page(
    request: HttpRequest, *, template: Template, admin_context: dict[str, Any]
) -> HttpResponse:
    versions = list(template.versions.order_by("-number"))
    chosen = next((v for v in versions if str(v.pk) == request.GET.get("version")), None)
    chosen = (
        chosen
        or template_version_draft(template=template)
        or template_version_published(template=template)
    )
    context = {
        **admin_context,
        "title": f"Playground · {template.name}",
        "template": template,
        "versions": versions,
        "chosen": chosen,
        "payload_json": json.dumps(example_payload(chosen.definition) if chosen else {}, indent=2),
        "opts": Template._meta,
    }
    return TemplateResponse(request, "admin/templates_app/playground/page.html", context)


class _BadTurnError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _error(status: int, path: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"path": path, "message": message}]}, status=status)


def _parse_turn(request: HttpRequest, template: Template) -> tuple[TemplateVersion, dict[str, Any]]:
    try:
        body = json.loads(request.body)
    except json.JSONDecodeError as error:
        raise _BadTurnError("$", "the request body must be JSON") from error
    if not isinstance(body, dict):
        raise _BadTurnError("$", "the request body must be a JSON object")
    version_id = parse_id(str(body.get("version", "")))
    version = None if version_id is None else template.versions.filter(pk=version_id).first()
    if version is None:
        raise _BadTurnError("$.version", "choose a version of this template")
    turns = body.get("turns", [])
    if not isinstance(turns, list) or not all(isinstance(turn, str) for turn in turns):
        raise _BadTurnError("$.turns", "turns must be a list of strings")
    if len(turns) > MAX_TURNS:
        raise _BadTurnError("$.turns", f"the playground holds at most {MAX_TURNS} turns")
    if body.get("override") is not None and not isinstance(body["override"], dict):
        raise _BadTurnError("$.override", "the config override must be a JSON object")
    return version, body


def _configured_llm(inputs: FlowInputs, *, merchant_id: int) -> Any:
    """The LLM service a call with this config would use (Pipecat's), or None for rules.

    Raises:
        ApplicationError: It cannot be built (unknown provider, missing credentials).
    """
    if inputs.config.call.get("llm", {}).get("provider", RULES) == RULES:
        return None
    build_llm = import_string(settings.BREEZE_LLM_BUILDER)
    return build_llm(
        inputs.config.call,
        credentials=provider_credentials_for_merchant(merchant_id=merchant_id),
        rules_factory=lambda: None,
    )


def playground_turn(request: HttpRequest, *, template: Template) -> JsonResponse:
    # Pipecat is imported only when the playground is used, not by every Django process.
    from templates_app.flows.conversation import converse

    try:
        version, body = _parse_turn(request, template)
        inputs = flow_inputs_for_version(
            version=version,
            payload=body.get("payload") or {},
            execution_mode=PLAYGROUND_MODE,
            builtins={"customer_phone": "+15555550123", "call_id": "playground"},
            playground_override=body.get("override") or None,
            reveal_secrets=False,
        )
    except _BadTurnError as error:
        return _error(400, error.path, error.message)
    except TemplateValidationError as error:
        return JsonResponse({"errors": [issue.as_dict() for issue in error.issues]}, status=400)
    except ApplicationError as error:
        return _error(400, f"$.{error.field or ''}", error.message)
    now = timezone.now().astimezone(zoneinfo.ZoneInfo(template.merchant.time_zone))
    from templates_app.dialogue.text_session import ConversationError

    turns = body.get("turns", [])
    configured = inputs.config.call.get("llm", {}).get("provider", RULES)
    engine, llm_note = RULES, ""
    conversation = None
    try:
        llm = _configured_llm(inputs, merchant_id=template.merchant_id)
        if llm is not None:
            conversation = async_to_sync(converse)(
                inputs,
                turns=turns,
                clock=now,
                llm=llm,
                timeout=settings.PLAYGROUND_LLM_TIMEOUT_SECONDS,
            )
            engine = configured
            if conversation.llm_failure:
                # As in a call: the LLM's replies up to its failure, the rules engine's after.
                engine = RULES
                llm_note = (
                    f"The configured LLM ({configured}) failed: {conversation.llm_failure}. "
                    "The rules engine answered from then on, as it would in a call."
                )
    except (ApplicationError, ConversationError, TimeoutError, RuntimeError) as error:
        # An unbuildable LLM, or a replay that failed as a whole: the rules engine answers it.
        conversation = None
        llm_note = (
            f"The configured LLM ({configured}) failed: {error}. Answered by the rules engine."
        )
    try:
        if conversation is None:
            conversation = async_to_sync(converse)(inputs, turns=turns, clock=now)
    except TimeoutError as error:
        return _error(422, "$", f"the flow stopped answering: {error}")
    unresolved = sorted(
        {name for _, line in conversation.transcript for name in PLACEHOLDER.findall(line)}
    )
    return JsonResponse(
        {
            "version": version.number,
            "transcript": [
                {"speaker": speaker, "text": text} for speaker, text in conversation.transcript
            ],
            "nodes": conversation.nodes,
            "ended": conversation.ended,
            "outcome": conversation.outcome,
            "outcome_fields": conversation.outcome_fields,
            "events": [asdict(event) for event in conversation.events],
            "engine": engine,
            "llm_note": llm_note,
            "configured_llm": inputs.config.call.get("llm", {}).get("provider"),
            "unresolved_variables": unresolved,
        }
    )
