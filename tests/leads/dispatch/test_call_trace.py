"""One trace per call: push request → dispatch → dial → webhook delivery, exported over OTLP.

Celery runs eagerly, as in every test; the dial goes to the simulator, whose media endpoint
(the test settings' port 9) refuses it, so the call ends failed and its events are delivered
to a local receiver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient

from calls.models import Call
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from leads.models import Lead
from leads.tasks import dispatch_due_leads
from templates_app.models import Template
from tests.conftest import Tenants
from tests.leads.conftest import push_body
from tests.leads.dispatch.conftest import ALWAYS
from tests.otlp import Tracing, tracing  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_the_spans_of_one_call_share_the_push_requests_trace(
    tracing: Tracing,  # noqa: F811
    operator_api: APIClient,
    make_template: Callable[..., Template],
    tenants: Tenants,
    httpserver: HTTPServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    template = make_template("traced", execution=dict(ALWAYS))
    httpserver.expect_request("/hooks", method="POST").respond_with_data("ok")
    webhook_endpoint_create(merchant_id=tenants.acme.pk, url=httpserver.url_for("/hooks"))

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.post(
            "/api/v1/leads", push_body(template=template.slug), format="json"
        )
    assert response.status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_due_leads.delay()

    spans = tracing.flush()
    lead = Lead.objects.get(pk=response.json()["id"])
    call = Call.objects.get(lead=lead)
    assert (call.status, call.end_reason) == ("ended", "provider_error")
    (request,) = [s for s in spans if s.attributes.get("http.route") == "api/v1/leads"]
    trace_id = request.trace_id
    assert lead.traceparent.startswith(f"00-{trace_id}-{request.span_id}-")

    (dispatch,) = tracing.receiver.named("lead.dispatch")
    (dial,) = tracing.receiver.named("call.dial")
    deliveries = tracing.receiver.named("webhook.deliver")
    assert (dispatch.trace_id, dispatch.parent_span_id) == (trace_id, request.span_id)
    assert dispatch.attributes == {"breeze.lead_id": lead.pk}
    assert call.traceparent.startswith(f"00-{trace_id}-{dispatch.span_id}-")
    assert (dial.trace_id, dial.parent_span_id) == (trace_id, dispatch.span_id)
    assert dial.attributes == {"breeze.call_id": call.pk}
    # The failed dial ended the call: its events were written under the dial span.
    events = sorted(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert sorted(str(s.attributes["breeze.webhook.event_type"]) for s in deliveries) == events
    assert events
    for delivery in deliveries:
        assert (delivery.trace_id, delivery.parent_span_id) == (trace_id, dial.span_id)
        assert delivery.attributes["http.response.status_code"] == 200
    assert {s.service for s in spans} == {"breeze-test"}
