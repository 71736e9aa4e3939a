"""The admin playground: a text conversation through the real flow that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from config.models import Membership
from config.services import merchant_secret_set
from templates_app.models import Template, TemplateVersion
from templates_app.services import template_load_demos, template_save_draft
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS

Role = Membership.Role
PAYLOAD = DEMO_PAYLOADS["order-confirmation"]


@pytest.fixture
def demo(tenants: Tenants) -> Template:
    template_load_demos(merchant=tenants.acme)
    template_load_demos(merchant=tenants.globex)
    return Template.objects.get(merchant=tenants.acme, slug="order-confirmation")


def _turn(client: Client, template: Template, **body: Any) -> Any:
    url = reverse("admin:templates_app_template_playground_turn", args=[template.pk])
    return client.post(url, body, content_type="application/json")


def test_page_offers_versions_and_example_payload(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    response = login(member_of_acme(Role.VIEWER)).get(
        reverse("admin:templates_app_template_playground", args=[demo.pk])
    )

    assert response.status_code == 200
    assert response.context["chosen"] == demo.versions.get()
    assert '"customer_name": "Asha"' in response.context["payload_json"]


def test_a_conversation_reaches_an_outcome_without_touching_anything(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.VIEWER))
    version = demo.versions.get()
    before = list(TemplateVersion.objects.values_list("pk", "status", "definition"))

    response = _turn(
        client, demo, version=version.pk, payload=PAYLOAD, turns=["not today", "tomorrow"]
    )

    data = response.json()
    assert response.status_code == 200
    assert [line["speaker"] for line in data["transcript"]] == [
        "bot",
        "bot",
        "customer",
        "bot",
        "customer",
        "bot",
    ]
    assert data["transcript"][-1] == {
        "speaker": "bot",
        "text": "Done, your delivery has been rescheduled. Goodbye.",
    }
    assert data["nodes"] == ["confirm_order", "reschedule", "delivery_rescheduled"]
    assert data["outcome"] == "rescheduled"
    assert set(data["outcome_fields"]) == {"delivery_date"}
    assert data["ended"] is True
    assert [e["detail"]["function"] for e in data["events"] if e["kind"] == "function_called"] == [
        "reschedule_delivery",
        "set_delivery_date",
    ]
    node_settings = {
        e["detail"]["node"]: e["detail"]["settings"]
        for e in data["events"]
        if e["kind"] == "node_entered"
    }
    assert node_settings["reschedule"]["vad"]["stop_secs"] == 1.2
    assert node_settings["delivery_rescheduled"]["vad"]["stop_secs"] == 0.8
    assert list(TemplateVersion.objects.values_list("pk", "status", "definition")) == before


def test_playground_override_applies_and_secrets_stay_hidden(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    merchant_secret_set(merchant=demo.merchant, name="crm_token", value="tok-very-secret")
    definition = demo.versions.get().definition
    definition["nodes"][0]["functions"][0]["hooks"].append(
        {
            "type": "http_request",
            "http": {
                "url": "https://crm.example.com/confirm",
                "headers": {"X-Token": "{crm_token}"},
                "body": {"token": "{crm_token}"},
            },
        }
    )
    draft = template_save_draft(template=demo, definition=definition)
    client = login(member_of_acme(Role.OPERATOR))

    data = _turn(
        client,
        demo,
        version=draft.pk,
        payload=PAYLOAD,
        turns=["yes"],
        override={"vad": {"stop_secs": 0.3}},
    ).json()

    http = [e["detail"] for e in data["events"] if e["kind"] == "http_request"]
    assert http == [
        {
            "method": "POST",
            "url": "https://crm.example.com/confirm",
            "body": {"token": "[secret crm_token]"},
        }
    ]
    assert "tok-very-secret" not in str(data)
    settings = [e["detail"]["settings"] for e in data["events"] if e["kind"] == "node_entered"]
    assert {s["vad"]["stop_secs"] for s in settings} == {0.3}


@pytest.mark.parametrize(
    ("_case", "body", "status", "errors"),
    [
        (
            "missing version",
            {"turns": []},
            400,
            [{"path": "$.version", "message": "choose a version of this template"}],
        ),
        (
            "turns not strings",
            {"version": "V", "turns": [1]},
            400,
            [{"path": "$.turns", "message": "turns must be a list of strings"}],
        ),
        (
            "payload missing a variable",
            {"version": "V", "turns": [], "payload": {"order_id": "A1", "order_total": "1"}},
            400,
            [{"path": "$.customer_name", "message": "customer_name is required by this template"}],
        ),
        (
            "override not an object",
            {"version": "V", "turns": [], "override": [1]},
            400,
            [{"path": "$.override", "message": "the config override must be a JSON object"}],
        ),
    ],
)
def test_bad_requests_name_the_field(
    _case: str,
    body: dict[str, Any],
    status: int,
    errors: list[dict[str, str]],
    demo: Template,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    if body.get("version") == "V":
        body = {**body, "version": demo.versions.get().pk, "payload": body.get("payload", PAYLOAD)}

    response = _turn(login(member_of_acme(Role.OPERATOR)), demo, **body)

    assert (response.status_code, response.json()) == (status, {"errors": errors})


def test_versions_of_other_templates_and_merchants_are_out_of_reach(
    demo: Template,
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))
    theirs = Template.objects.get(merchant=tenants.globex, slug="order-confirmation")
    sibling = Template.objects.get(merchant=tenants.acme, slug="abandoned-cart")

    foreign_template = _turn(
        client, theirs, version=theirs.versions.get().pk, payload=PAYLOAD, turns=[]
    )
    foreign_version = _turn(
        client, demo, version=sibling.versions.get().pk, payload=PAYLOAD, turns=[]
    )

    assert foreign_template.status_code == 404
    assert foreign_version.json() == {
        "errors": [{"path": "$.version", "message": "choose a version of this template"}]
    }
