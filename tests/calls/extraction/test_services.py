"""Post-call extraction as a call lives it: begun by call_end, run after commit, carried by
call.completed; the LLM path against a local server answering like OpenAI's chat completions,
its failures falling back to the rules engine, the sweeper's deadline and re-enqueue.
"""

from __future__ import annotations

import json
import time
import zoneinfo
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone as dt_timezone
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from breeze.celery import app as celery_app
from calls.extraction.services import call_extraction_run, call_extractions_sweep
from calls.metrics.collector import call_metrics
from calls.metrics.selectors import call_extractions_by_status_and_source
from calls.models import Call
from calls.services import call_end, call_mark_in_progress, call_record_turn
from calls.webhooks.events import event_validation_errors
from calls.webhooks.models import WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from config.models import Membership, Merchant
from config.services import provider_credential_create
from templates_app.models import TemplateVersion
from tests.conftest import Tenants

EXTRACTION = {
    "instructions": "The customer buys furniture.",
    "fields": [
        {
            "name": "delivery_confirmed",
            "type": "boolean",
            "description": "Whether the customer confirmed the delivery",
        },
        {"name": "cancel_reason", "type": "string", "description": "Why the customer cancels"},
        {
            "name": "preferred_slot",
            "type": "string",
            "description": "When the customer prefers delivery",
            "options": ["morning", "afternoon", "evening"],
        },
    ],
}
TURNS = [
    ("bot", "Shall we go ahead and deliver your order?"),
    ("customer", "No, please cancel it."),
    ("bot", "May I ask why you are cancelling?"),
    ("customer", "It is too expensive for me."),
]
RULES_FIELDS = {
    "delivery_confirmed": False,
    "cancel_reason": "It is too expensive for me.",
    "preferred_slot": None,
}
LLM_FIELDS = {
    "delivery_confirmed": False,
    "cancel_reason": "too expensive",
    "preferred_slot": None,
}
COMPLETIONS = "/v1/chat/completions"


def _completion(arguments: str) -> dict[str, Any]:
    """A non-streaming chat completion as OpenAI returns it for a forced tool call."""
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1764065748,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_Hq3aY2pWmW8cXnLq0pHf6Z1T",
                            "type": "function",
                            "function": {"name": "record_fields", "arguments": arguments},
                        }
                    ],
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 212, "completion_tokens": 24, "total_tokens": 236},
        "system_fingerprint": "fp_f9f4fb6dbf",
    }


@pytest.fixture
def extracting(published: TemplateVersion) -> TemplateVersion:
    TemplateVersion.objects.filter(pk=published.pk).update(
        definition={**published.definition, "extraction": EXTRACTION}
    )
    published.refresh_from_db()
    return published


@pytest.fixture
def with_llm(extracting: TemplateVersion, tenants: Tenants, httpserver: HTTPServer) -> None:
    TemplateVersion.objects.filter(pk=extracting.pk).update(
        definition={
            **extracting.definition,
            "llm": {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.2},
        }
    )
    provider_credential_create(
        merchant=tenants.acme,
        provider="openai",
        secrets={"api_key": "sk-test-extraction", "base_url": httpserver.url_for("/v1")},
    )


@pytest.fixture
def subscribed(tenants: Tenants) -> None:
    # Never delivered: on-commit callbacks run only where a test executes them.
    webhook_endpoint_create(
        merchant_id=tenants.acme.pk,
        url="https://merchant.example/hooks",
        event_types=["call.completed"],
    )


def _talk(call: Call) -> None:
    call_mark_in_progress(call_id=call.pk, worker_id="w1")
    for index, (speaker, text) in enumerate(TURNS):
        call_record_turn(
            call_id=call.pk, index=index, speaker=speaker, text=text, started_offset_ms=index * 3000
        )


def _completed_events() -> list[dict[str, Any]]:
    return [
        delivery.payload
        for delivery in WebhookDelivery.objects.filter(event_type="call.completed").order_by("pk")
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting", "subscribed")
def test_call_completed_waits_for_the_rules_extraction_and_carries_it(
    call: Call, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    _talk(call)

    with django_capture_on_commit_callbacks() as enqueued:
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")

    call.refresh_from_db()
    assert call.extraction_status == "pending"
    assert _completed_events() == []
    assert len(enqueued) >= 1

    assert call_extraction_run(call_id=call.pk) is True

    call.refresh_from_db()
    assert call.extraction_status == "done"
    assert call.extraction == {"source": "rules", "fields": RULES_FIELDS, "errors": []}
    # The hook-set outcome is the call's own; extraction never touches it.
    assert (call.outcome, call.outcome_fields) == ("", {})
    [event] = _completed_events()
    assert event["data"]["extraction"] == {
        "status": "done",
        "source": "rules",
        "fields": RULES_FIELDS,
        "errors": [],
    }
    assert event_validation_errors(event) == []
    # Run again (a redelivered task): nothing changes, no second event.
    assert call_extraction_run(call_id=call.pk) is False
    assert len(_completed_events()) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting", "with_llm")
def test_the_configured_llm_fills_the_fields_after_commit_and_call_completed_carries_them(
    call: Call,
    httpserver: HTTPServer,
    tenants: Tenants,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    received: list[dict[str, Any]] = []
    webhook_endpoint_create(
        merchant_id=tenants.acme.pk,
        url=httpserver.url_for("/hooks"),
        event_types=["call.completed"],
    )
    httpserver.expect_request(COMPLETIONS, method="POST").respond_with_json(
        _completion(json.dumps(LLM_FIELDS))
    )

    def receive(request: Request) -> Response:
        received.append(json.loads(request.data))
        return Response(status=204)

    httpserver.expect_request("/hooks", method="POST").respond_with_handler(receive)
    Merchant.objects.filter(pk=tenants.acme.pk).update(time_zone="Asia/Kolkata")
    _talk(call)

    # Eager Celery: the extraction task and the deliveries run as the transactions commit.
    with django_capture_on_commit_callbacks(execute=True):
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")

    [llm_request, _] = httpserver.log
    request = llm_request[0]
    assert request.headers["Authorization"] == "Bearer sk-test-extraction"
    body = json.loads(request.data)
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2
    assert body["tool_choice"] == {"type": "function", "function": {"name": "record_fields"}}
    assert body["messages"][0]["content"].endswith("\n\nThe customer buys furniture.")
    answered = Call.objects.get(pk=call.pk).answered_at
    assert answered is not None
    local = answered.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata"))
    assert body["messages"][1]["content"].splitlines()[0] == (
        f"The call took place on {local:%A %Y-%m-%d at %H:%M} (time zone Asia/Kolkata)."
    )
    assert body["messages"][1]["content"].splitlines()[2:] == [
        "Bot: Shall we go ahead and deliver your order?",
        "Customer: No, please cancel it.",
        "Bot: May I ask why you are cancelling?",
        "Customer: It is too expensive for me.",
    ]
    assert body["tools"][0]["function"]["parameters"]["properties"]["preferred_slot"] == {
        "description": "When the customer prefers delivery",
        "type": ["string", "null"],
        "enum": ["morning", "afternoon", "evening", None],
    }
    [event] = received
    assert event["type"] == "call.completed"
    assert event["data"]["extraction"] == {
        "status": "done",
        "source": "llm",
        "fields": LLM_FIELDS,
        "errors": [],
    }


def _respond_500(httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMPLETIONS).respond_with_json(
        {"error": {"message": "The server had an error", "type": "server_error"}}, status=500
    )


def _respond_slowly(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response(json.dumps(_completion(json.dumps(LLM_FIELDS))), status=200)

    httpserver.expect_request(COMPLETIONS).respond_with_handler(slow)


def _respond_not_json(httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMPLETIONS).respond_with_data("<html>Bad gateway</html>")


def _respond_bad_arguments(httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMPLETIONS).respond_with_json(
        _completion('{"delivery_confirmed": false, "cancel_reason": "too exp')
    )


def _respond_without_tool_call(httpserver: HTTPServer) -> None:
    answer = _completion("{}")
    answer["choices"][0]["message"] = {"role": "assistant", "content": "No fields."}
    httpserver.expect_request(COMPLETIONS).respond_with_json(answer)


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting", "with_llm")
@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (_respond_500, "llm: the LLM answered HTTP 500; filled by the rules engine"),
        (_respond_slowly, "llm: no answer within 1s; filled by the rules engine"),
        (_respond_not_json, "llm: the LLM's answer is not JSON; filled by the rules engine"),
        (
            _respond_bad_arguments,
            "llm: the record_fields arguments are not JSON; filled by the rules engine",
        ),
        (
            _respond_without_tool_call,
            "llm: the LLM did not call record_fields; filled by the rules engine",
        ),
    ],
    ids=["5xx", "timeout", "body-not-json", "arguments-not-json", "no-tool-call"],
)
def test_an_llm_failure_falls_back_to_the_rules_engine_and_is_recorded(
    call: Call,
    httpserver: HTTPServer,
    settings: Settings,
    answer: Any,
    error: str,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    settings.EXTRACTION_LLM_TIMEOUT_SECONDS = 1
    answer(httpserver)
    _talk(call)
    with django_capture_on_commit_callbacks():
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")

    call_extraction_run(call_id=call.pk)

    call.refresh_from_db()
    assert (call.extraction_status, call.extraction) == (
        "done",
        {"source": "rules", "fields": RULES_FIELDS, "errors": [error]},
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting", "with_llm")
def test_llm_values_of_the_wrong_kind_are_dropped_one_by_one(
    call: Call,
    httpserver: HTTPServer,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    arguments = {
        "delivery_confirmed": "no",
        "cancel_reason": "too expensive",
        "preferred_slot": "night",
        "mood": "annoyed",
    }
    httpserver.expect_request(COMPLETIONS).respond_with_json(_completion(json.dumps(arguments)))
    _talk(call)
    with django_capture_on_commit_callbacks():
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")

    call_extraction_run(call_id=call.pk)

    call.refresh_from_db()
    assert call.extraction == {
        "source": "llm",
        "fields": {
            "delivery_confirmed": None,
            "cancel_reason": "too expensive",
            "preferred_slot": None,
        },
        "errors": [
            'llm: delivery_confirmed: expected boolean, got "no"; left empty',
            'llm: preferred_slot: "night" is not one of morning, afternoon, evening; left empty',
            "llm: ignored unknown fields mood",
        ],
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting", "with_llm")
def test_missing_llm_credentials_fall_back_to_rules(
    call: Call, tenants: Tenants, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    tenants.acme.credentials.all().delete()
    _talk(call)
    with django_capture_on_commit_callbacks():
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")

    call_extraction_run(call_id=call.pk)

    call.refresh_from_db()
    assert call.extraction["errors"] == [
        "llm: openai credentials need api_key; filled by the rules engine"
    ]
    assert call.extraction["fields"] == RULES_FIELDS


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting", "subscribed")
def test_an_unanswered_call_reports_at_once_without_extraction(
    call: Call, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    with django_capture_on_commit_callbacks():
        call_end(call_id=call.pk, disposition="no_answer", end_reason="provider_no-answer")

    call.refresh_from_db()
    assert call.extraction_status == ""
    [event] = _completed_events()
    assert event["data"]["extraction"] is None
    assert call_extraction_run(call_id=call.pk) is False


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting", "subscribed")
def test_the_sweeper_reenqueues_lost_extractions_and_times_out_late_ones(
    call: Call,
    published: TemplateVersion,
    settings: Settings,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    settings.EXTRACTION_DEADLINE_SECONDS = 120
    settings.EXTRACTION_SWEEP_GRACE_SECONDS = 30
    _talk(call)
    with django_capture_on_commit_callbacks():  # the task is lost with Redis
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")
    ended = Call.objects.get(pk=call.pk).ended_at
    assert ended is not None

    assert call_extractions_sweep(now=ended + timedelta(seconds=10)) == (0, 0)
    # Eager Celery: the re-enqueued task runs at once.
    assert call_extractions_sweep(now=ended + timedelta(seconds=31)) == (0, 1)
    assert Call.objects.get(pk=call.pk).extraction_status == "done"

    late = Call.objects.create(
        merchant_id=call.merchant_id,
        template_version=published,
        execution_mode=call.execution_mode,
        provider="simulator",
        status=Call.Status.ENDED,
        answered_at=ended,
        ended_at=ended,
        extraction_status="pending",
    )
    assert call_extractions_sweep(now=ended + timedelta(seconds=121)) == (1, 0)

    late.refresh_from_db()
    assert (late.extraction_status, late.extraction) == (
        "timed_out",
        {"source": None, "fields": {}, "errors": ["not finished within 120s of the call's end"]},
    )
    event = _completed_events()[-1]
    assert event["data"]["call_id"] == late.pk
    assert event["data"]["extraction"]["status"] == "timed_out"
    assert event_validation_errors(event) == []


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """Tasks go to the test Redis instead of running eagerly; the queue starts empty."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("postcall")
    celery_app.conf.task_always_eager = False
    yield client
    celery_app.conf.task_always_eager = True
    client.delete("postcall")


def _queued(client: redis.Redis) -> list[tuple[str, str, str | None]]:
    raw_messages = cast("list[bytes]", client.lrange("postcall", 0, -1))
    messages = [json.loads(raw) for raw in raw_messages]
    return [(m["headers"]["task"], m["headers"]["argsrepr"], m["headers"]["eta"]) for m in messages]


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting")
@pytest.mark.parametrize(
    ("end_reason", "waits"), [("provider_completed", True), ("customer_hangup", False)]
)
def test_extraction_waits_for_the_worker_when_the_provider_ended_the_call(
    call: Call,
    broker: redis.Redis,
    end_reason: str,
    waits: bool,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    call_mark_in_progress(call_id=call.pk, worker_id="w1")
    with django_capture_on_commit_callbacks(execute=True):
        call_end(call_id=call.pk, disposition="answered", end_reason=end_reason)

    [(task, args, eta)] = _queued(broker)
    assert (task, args) == ("calls.extraction.tasks.call_extract_task", f"({call.pk},)")
    if waits:
        assert eta is not None
        delay = (datetime.fromisoformat(eta) - dt_timezone.now()).total_seconds()
        assert 3.5 < delay <= 5
    else:
        assert eta is None


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting")
def test_operators_see_the_extraction_on_the_call_page(
    call: Call,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    _talk(call)
    with django_capture_on_commit_callbacks(execute=True):
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")
    client = login(member_of_acme(Membership.Role.VIEWER))

    page = client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()

    assert "<p>Done · rules</p>" in page
    assert "<tr><th>cancel_reason</th><td>It is too expensive for me.</td></tr>" in page
    assert "<tr><th>preferred_slot</th><td>—</td></tr>" in page


@pytest.mark.django_db
@pytest.mark.usefixtures("extracting")
def test_extractions_are_counted_by_status_and_source(
    call: Call, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    _talk(call)
    with django_capture_on_commit_callbacks():
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")
    assert call_extractions_by_status_and_source() == {("pending", ""): 1}

    call_extraction_run(call_id=call.pk)

    assert call_extractions_by_status_and_source() == {("done", "rules"): 1}
    [family] = [m for m in call_metrics() if m.name == "breeze_call_extractions"]
    assert [(s.labels, s.value) for s in family.samples] == [
        ({"status": "done", "source": "rules"}, 1)
    ]
