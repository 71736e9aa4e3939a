"""What an operator does in the admin, clicked through in a real browser."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from playwright.sync_api import Page, expect
from playwright.sync_api import Request as PlaywrightRequest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from calls.webhooks.events import EventType
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create, webhook_event_emit
from leads.models import LeadImport
from templates_app.models import Template
from templates_app.services import template_load_demos
from tests.browser.conftest import Web, log_in
from tests.conftest import Tenants

pytestmark = [pytest.mark.processes, pytest.mark.browser]


def test_edit_a_template_fix_the_error_publish_and_reach_an_outcome_in_the_playground(
    web: Web, page: Page, merchant_admin: User, tenants: Tenants
) -> None:
    template_load_demos(merchant=tenants.acme)
    template = Template.objects.get(merchant=tenants.acme, slug="order-confirmation")
    log_in(page, web.base_url, merchant_admin)

    page.goto(f"{web.base_url}/admin/templates_app/template/")
    page.get_by_role("link", name="Cash-on-delivery order confirmation").first.click()
    definition = json.loads(page.input_value("#id_definition"))
    definition["nodes"][0]["functions"][0]["transition_to"] = "shipped"
    page.fill("#id_definition", json.dumps(definition))
    page.click("input[name=_continue]")

    expect(page.locator(".errorlist")).to_contain_text(
        "$.nodes[0].functions[0].transition_to: no node is named 'shipped'"
    )
    definition["nodes"][0]["functions"][0]["transition_to"] = "order_confirmed"
    definition["greeting"] = "Hello {customer_name}, Breeze here for {merchant_name}."
    page.fill("#id_definition", json.dumps(definition))
    page.click("input[name=_publish]")

    expect(page.locator(".messagelist")).to_contain_text("Published v2.")
    assert list(template.versions.order_by("number").values_list("number", "status")) == [
        (1, "archived"),
        (2, "published"),
    ]

    page.get_by_role("link", name="Cash-on-delivery order confirmation").first.click()
    page.get_by_role("link", name="Playground").click()
    expect(page.locator("#pg-transcript")).to_contain_text("Hello Asha, Breeze here for")
    page.fill("#pg-text", "yes please")
    page.press("#pg-text", "Enter")

    expect(page.locator("#pg-outcome")).to_contain_text('confirmed {"confirmed_via":"voice"}')
    expect(page.locator("#pg-path")).to_have_text("confirm_order → order_confirmed")


def test_replay_a_failed_webhook_delivery(
    web: Web, page: Page, merchant_admin: User, tenants: Tenants, httpserver: HTTPServer
) -> None:
    received: list[str] = []

    def record(request: Request) -> Response:
        received.append(request.headers["Breeze-Event-Id"])
        return Response("down" if len(received) == 1 else "ok", 503 if len(received) == 1 else 200)

    httpserver.expect_request("/hooks").respond_with_handler(record)
    webhook_endpoint_create(merchant_id=tenants.acme.pk, url=httpserver.url_for("/hooks"))
    with transaction.atomic():
        event_id = webhook_event_emit(
            merchant_id=tenants.acme.pk, event_type=EventType.CALL_STARTED, data={"call_id": 7}
        )
    first = WebhookDelivery.objects.get()
    log_in(page, web.base_url, merchant_admin)

    page.goto(f"{web.base_url}/admin/calls/webhookdelivery/")
    page.check(f"input[name=_selected_action][value='{first.pk}']")
    page.select_option("select[name=action]", "replay")
    page.click("button[name=index]")

    expect(page.locator(".messagelist")).to_have_text("1 deliveries queued again.")
    assert received == [event_id, event_id]
    replay = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert (replay.replay_of_id, replay.event_id, replay.status) == (
        first.pk,
        event_id,
        "succeeded",
    )


def test_an_imports_progress_bar_follows_the_import_until_it_ends(
    web: Web, page: Page, merchant_admin: User, tenants: Tenants
) -> None:
    """The bar polls the progress URL each second while the import runs, then stops."""
    template_load_demos(merchant=tenants.acme)
    lead_import = LeadImport.objects.create(
        merchant=tenants.acme,
        template=Template.objects.get(merchant=tenants.acme, slug="order-confirmation"),
        execution_mode="TELEPHONY",
        file="imports/nov.csv",
        status=LeadImport.Status.RUNNING,
        total_rows=1000,
    )
    progress_url = f"/admin/leads/leadimport/{lead_import.pk}/progress/"
    polls: list[str] = []

    def count_polls(request: PlaywrightRequest) -> None:
        if progress_url in request.url:
            polls.append(request.url)

    page.on("request", count_polls)
    log_in(page, web.base_url, merchant_admin)

    page.goto(f"{web.base_url}/admin/leads/leadimport/{lead_import.pk}/change/")
    bar, text = page.locator("progress"), page.locator(f'[data-progress-text="{progress_url}"]')
    expect(text).to_have_text("Running: 0 / 1000 rows, 0 imported, 0 failed")
    expect(bar).to_have_attribute("max", "1000")

    LeadImport.objects.filter(pk=lead_import.pk).update(
        processed_rows=500, ok_rows=490, failed_rows=10
    )
    expect(bar).to_have_js_property("value", 500)
    expect(text).to_have_text("Running: 500 / 1000 rows, 490 imported, 10 failed")

    LeadImport.objects.filter(pk=lead_import.pk).update(
        status=LeadImport.Status.COMPLETED, processed_rows=1000, ok_rows=990
    )
    expect(text).to_have_text("Completed: 1000 / 1000 rows, 990 imported, 10 failed")
    expect(bar).to_have_js_property("value", 1000)
    polled = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == polled  # no polling once the import has ended
    assert polled >= 3
