"""The playground with a real LLM: Pipecat's OpenAI service, built as a call builds it, against a
local server that streams chat completions as OpenAI does, its tool calls moving the flow; and
the rules engine answering, with a note, when that LLM fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django import Settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from calls.models import Call
from config.models import Membership
from config.services import provider_credential_create
from leads.models import Lead
from templates_app.models import Template, TemplateVersion
from templates_app.services import template_load_demos
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS
from tests.fake_openai import COMPLETIONS, FakeOpenAI, failing_after, say, server_error

PAYLOAD = DEMO_PAYLOADS["order-confirmation"]


@pytest.fixture
def demo(tenants: Tenants) -> Template:
    template_load_demos(merchant=tenants.acme)
    template = Template.objects.get(merchant=tenants.acme, slug="order-confirmation")
    version = template.versions.get()
    TemplateVersion.objects.filter(pk=version.pk).update(
        definition={**version.definition, "llm": {"provider": "openai", "model": "gpt-4o-mini"}}
    )
    return template


@pytest.fixture
def openai_credential(tenants: Tenants, httpserver: HTTPServer) -> None:
    provider_credential_create(
        merchant=tenants.acme,
        provider="openai",
        secrets={"api_key": "sk-playground", "base_url": httpserver.url_for("/v1")},
    )


@pytest.fixture
def client(member_of_acme: Callable[[str], User], login: Callable[[User], Client]) -> Client:
    return login(member_of_acme(Membership.Role.VIEWER))


def _turn(client: Client, template: Template, turns: list[str]) -> Any:
    url = reverse("admin:templates_app_template_playground_turn", args=[template.pk])
    body = {"version": template.versions.get().pk, "payload": PAYLOAD, "turns": turns}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
@pytest.mark.usefixtures("openai_credential")
def test_the_configured_llm_answers_and_its_tool_calls_move_the_flow(
    client: Client, demo: Template, httpserver: HTTPServer
) -> None:
    fake = FakeOpenAI()
    httpserver.expect_request(COMPLETIONS, method="POST").respond_with_handler(fake)

    data = _turn(client, demo, ["Can you bring it another day?", "Next Friday please"])

    assert data["engine"] == "openai"
    assert data["llm_note"] == ""
    assert data["transcript"] == [
        {"speaker": "bot", "text": "Hi Asha, this is Breeze calling on behalf of Acme Retail."},
        {"speaker": "bot", "text": "Shall we deliver order A1042 today?"},
        {"speaker": "customer", "text": "Can you bring it another day?"},
        {"speaker": "bot", "text": "Which day suits you?"},
        {"speaker": "customer", "text": "Next Friday please"},
        {"speaker": "bot", "text": "Done, your delivery moves to Friday. Goodbye!"},
    ]
    assert data["nodes"] == ["confirm_order", "reschedule", "delivery_rescheduled"]
    assert data["ended"] is True
    assert (data["outcome"], data["outcome_fields"]) == (
        "rescheduled",
        {"delivery_date": "2026-11-27"},
    )
    calls = [
        (event["detail"]["function"], event["detail"]["arguments"])
        for event in data["events"]
        if event["kind"] == "function_called"
    ]
    assert calls == [
        ("reschedule_delivery", {}),
        ("set_delivery_date", {"delivery_date": "2026-11-27"}),
    ]
    # Every request is the call's: the model, the key, and the node's functions as tools.
    assert {request["model"] for request in fake.requests} == {"gpt-4o-mini"}
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer sk-playground"
    assert [sorted(t["function"]["name"] for t in r.get("tools", [])) for r in fake.requests][
        :2
    ] == [
        ["cancel_order", "confirm_order", "reschedule_delivery", "talk_to_human"],
        ["cancel_order", "confirm_order", "reschedule_delivery", "talk_to_human"],
    ]
    # A playground run never touches real leads or calls.
    assert (Lead.objects.count(), Call.objects.count()) == (0, 0)


@pytest.mark.django_db
@pytest.mark.usefixtures("openai_credential")
def test_a_failing_llm_falls_back_to_the_rules_engine_with_a_note(
    client: Client, demo: Template, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(COMPLETIONS).respond_with_json(
        {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
        status=401,
    )

    data = _turn(client, demo, ["not today", "tomorrow"])

    assert data["engine"] == "rules"
    assert data["llm_note"].startswith("The configured LLM (openai) failed: ")
    assert "Error code: 401" in data["llm_note"]
    assert data["llm_note"].endswith(
        ". The rules engine answered from then on, as it would in a call."
    )
    assert data["nodes"] == ["confirm_order", "reschedule", "delivery_rescheduled"]
    assert data["outcome"] == "rescheduled"


@pytest.mark.django_db
@pytest.mark.usefixtures("openai_credential")
def test_an_llm_failing_mid_conversation_hands_over_to_rules_as_in_a_call(
    client: Client, demo: Template, httpserver: HTTPServer
) -> None:
    handler, requests = failing_after(1, server_error)
    httpserver.expect_request(COMPLETIONS, method="POST").respond_with_handler(handler)

    data = _turn(client, demo, ["Can you bring it another day?", "Next Friday please"])

    assert data["engine"] == "rules"
    assert data["llm_note"].startswith(
        "The configured LLM (openai) failed: Error during completion: Error code: 500 - "
    )
    assert [line["text"] for line in data["transcript"]] == [
        "Hi Asha, this is Breeze calling on behalf of Acme Retail.",
        "Shall we deliver order A1042 today?",
        "Can you bring it another day?",
        "Sure. Which day would suit you for delivery?",
        "Next Friday please",
        "Done, your delivery has been rescheduled. Goodbye.",
    ]
    assert data["nodes"] == ["confirm_order", "reschedule", "delivery_rescheduled"]
    assert data["outcome"] == "rescheduled"
    assert requests == [2]


@pytest.mark.django_db
def test_an_llm_without_credentials_falls_back_with_a_note(client: Client, demo: Template) -> None:
    data = _turn(client, demo, ["yes please"])

    assert data["engine"] == "rules"
    assert data["llm_note"] == (
        "The configured LLM (openai) failed: openai needs the credential keys api_key, "
        "which are not set. Answered by the rules engine."
    )
    assert data["outcome"] == "confirmed"


@pytest.mark.django_db
@pytest.mark.usefixtures("openai_credential")
def test_an_llm_that_does_not_answer_in_time_falls_back_to_rules(
    client: Client, demo: Template, httpserver: HTTPServer, settings: Settings
) -> None:
    settings.PLAYGROUND_LLM_TIMEOUT_SECONDS = 1

    def hang(request: Request) -> Response:
        time.sleep(1.5)
        return say("Too late.")

    httpserver.expect_request(COMPLETIONS).respond_with_handler(hang)

    data = _turn(client, demo, ["yes please"])

    assert data["engine"] == "rules"
    assert data["llm_note"] == (
        "The configured LLM (openai) failed: text conversation timed out after 1s waiting for "
        "the bot's first reply. Answered by the rules engine."
    )
    assert data["outcome"] == "confirmed"
