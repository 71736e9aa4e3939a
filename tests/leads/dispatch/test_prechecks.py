"""Pre-checks: the template's eligibility hook is asked at dial time, before any provider."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from calls.models import Call
from leads.dispatch.services import leads_dispatch_batch
from leads.models import Lead, LeadTransition
from telephony.services import call_place
from templates_app.models import Template
from tests.leads.dispatch.conftest import ALWAYS, Dials

Status = Lead.Status
MakeLead = Callable[..., Lead]
PATH = "/eligible"


def _hook(server: HTTPServer, **check: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "http": {
            "url": server.url_for(PATH),
            "method": "POST",
            "headers": {"X-Order": "{order_id}", "X-Call": "{call_id}"},
            "body": {"phone": "{customer_phone}", "order": "{order_id}"},
            "timeout": 0.5,
        },
        **check,
    }


@pytest.fixture
def precheck_lead(
    make_template: Callable[..., Template], make_lead: MakeLead
) -> Callable[[dict[str, Any]], Lead]:
    def make(check: dict[str, Any]) -> Lead:
        template = make_template("prechecked", execution={**ALWAYS, "pre_checks": [check]})
        return make_lead(template=template, template_version=template.versions.get())

    return make


def _dispatch_and_place(lead: Lead) -> Call:
    (call_id,) = leads_dispatch_batch().dialled
    call_place(call_id=call_id)
    return Call.objects.get(pk=call_id)


def _history(lead: Lead) -> list[tuple[str, str]]:
    return list(
        LeadTransition.objects.filter(lead=lead).order_by("pk").values_list("to_status", "reason")
    )


def test_an_eligible_answer_lets_the_call_be_dialled_and_the_hook_gets_the_call_s_variables(
    precheck_lead: Callable[[dict[str, Any]], Lead], httpserver: HTTPServer, dials: Dials
) -> None:
    lead = precheck_lead(_hook(httpserver))
    httpserver.expect_oneshot_request(PATH, method="POST").respond_with_json({"eligible": True})

    call = _dispatch_and_place(lead)

    assert dials.call_ids == [call.pk]
    request, _ = httpserver.log[0]
    order_id = lead.payload["order_id"]
    assert (request.headers["X-Order"], request.headers["X-Call"]) == (order_id, str(call.pk))
    assert json.loads(request.get_data()) == {"phone": lead.phone, "order": order_id}


def test_not_eligible_ends_the_lead_failed_blocked_without_dialling(
    precheck_lead: Callable[[dict[str, Any]], Lead], httpserver: HTTPServer, dials: Dials
) -> None:
    lead = precheck_lead(_hook(httpserver))
    httpserver.expect_oneshot_request(PATH).respond_with_json(
        {"eligible": False, "reason": "already delivered"}
    )

    call = _dispatch_and_place(lead)

    assert dials.call_ids == []
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.BLOCKED,
        "precheck_not_eligible",
    )
    lead.refresh_from_db()
    assert (lead.status, lead.last_disposition, lead.next_attempt_at) == (
        Status.FAILED,
        "blocked",
        None,
    )
    assert _history(lead)[-1] == ("failed", "blocked: precheck_not_eligible")


def test_the_hook_url_gets_the_call_s_variables_percent_encoded(
    precheck_lead: Callable[[dict[str, Any]], Lead], httpserver: HTTPServer, dials: Dials
) -> None:
    hook = _hook(httpserver)
    hook["http"]["url"] += "?phone={customer_phone}"
    lead = precheck_lead(hook)
    httpserver.expect_oneshot_request(PATH, method="POST").respond_with_json({"eligible": True})

    _dispatch_and_place(lead)

    request, _ = httpserver.log[0]
    assert request.environ["RAW_URI"] == f"{PATH}?phone=%2B{lead.phone[1:]}"
    assert request.args["phone"] == lead.phone


@pytest.fixture
def slow_hook(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """A hook that answers only after the check's 0.5 s timeout (released at teardown)."""
    release = threading.Event()

    def late(request: Request) -> Response:
        release.wait(3)
        return Response('{"eligible": false}', content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(late)
    yield httpserver
    release.set()


def test_a_hook_that_times_out_fails_open_by_default(
    precheck_lead: Callable[[dict[str, Any]], Lead], slow_hook: HTTPServer, dials: Dials
) -> None:
    lead = precheck_lead(_hook(slow_hook))

    call = _dispatch_and_place(lead)

    assert dials.call_ids == [call.pk]
    assert call.status == Call.Status.DIALING


def test_a_hook_that_times_out_fails_closed_when_set_and_the_lead_is_retried(
    precheck_lead: Callable[[dict[str, Any]], Lead], slow_hook: HTTPServer, dials: Dials
) -> None:
    lead = precheck_lead(_hook(slow_hook, on_error="block"))

    call = _dispatch_and_place(lead)

    assert dials.call_ids == []
    assert (call.disposition, call.end_reason) == (
        Call.Disposition.FAILED,
        "precheck_unavailable",
    )
    lead.refresh_from_db()
    assert (lead.status, lead.last_disposition) == (Status.SCHEDULED, "failed")
    assert _history(lead)[-1] == ("scheduled", "failed, retry 2 of 3")


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, {"eligible": False}), (200, {"ok": True}), (200, "eligible")],
)
def test_a_server_error_or_an_unreadable_answer_counts_as_no_answer(
    precheck_lead: Callable[[dict[str, Any]], Lead],
    httpserver: HTTPServer,
    dials: Dials,
    status: int,
    body: Any,
) -> None:
    lead = precheck_lead(_hook(httpserver, on_error="block"))
    httpserver.expect_request(PATH).respond_with_data(
        json.dumps(body), status=status, content_type="application/json"
    )

    call = _dispatch_and_place(lead)

    assert dials.call_ids == []
    assert call.end_reason == "precheck_unavailable"
    assert len(httpserver.log) == 1
