"""Evaluator scores reach the call's Langfuse trace when post-call extraction finishes."""

from __future__ import annotations

from typing import Any

import pytest
from langfuse import Langfuse
from pytest_django import DjangoCaptureOnCommitCallbacks

from calls.extraction.services import call_extraction_run
from calls.langfuse.client import call_langfuse_trace_id
from calls.langfuse.services import ScoreValue, call_scores_send
from calls.models import Call
from calls.services import call_end, call_mark_in_progress, call_record_turn
from templates_app.models import TemplateVersion
from tests.calls.langfuse.conftest import LangfuseServer

pytestmark = pytest.mark.django_db

EXTRACTION = {
    "fields": [
        {
            "name": "delivery_confirmed",
            "type": "boolean",
            "description": "Whether the customer confirmed the delivery",
        },
        {
            "name": "preferred_slot",
            "type": "string",
            "description": "When the customer prefers delivery",
            "options": ["morning", "evening"],
        },
        {"name": "rating", "type": "integer", "description": "Satisfaction from 1 to 5"},
    ]
}
EVALUATORS = [
    {"name": "delivered", "field": "delivery_confirmed", "description": "Agreed to delivery"},
    {"name": "slot", "field": "preferred_slot"},
    {"name": "satisfaction", "field": "rating"},
]


@pytest.fixture
def evaluated(published: TemplateVersion) -> TemplateVersion:
    TemplateVersion.objects.filter(pk=published.pk).update(
        definition={**published.definition, "extraction": EXTRACTION, "evaluators": EVALUATORS}
    )
    published.refresh_from_db()
    return published


def _scores(server: LangfuseServer) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in score.items() if key != "timestamp"}
        for score in server.scores
    ]


def _score_id(call: Call, name: str) -> str:
    return Langfuse.create_trace_id(seed=f"breeze-call-{call.pk}-score-{name}")


@pytest.mark.usefixtures("evaluated")
def test_extraction_done_sends_each_filled_evaluator_as_a_typed_score(
    call: Call,
    langfuse_server: LangfuseServer,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    call_mark_in_progress(call_id=call.pk, worker_id="w1")
    turns = [("bot", "Shall we deliver your order?"), ("customer", "Yes, deliver it please.")]
    for index, (speaker, text) in enumerate(turns):
        call_record_turn(call_id=call.pk, index=index, speaker=speaker, text=text)
    with django_capture_on_commit_callbacks():
        call_end(call_id=call.pk, disposition="answered", end_reason="bot_ended")

    with django_capture_on_commit_callbacks(execute=True):
        assert call_extraction_run(call_id=call.pk) is True

    call.refresh_from_db()
    assert call.extraction["fields"] == {
        "delivery_confirmed": True,
        "preferred_slot": None,
        "rating": None,
    }
    # Unfilled fields give no score; a boolean is sent as Langfuse stores it, 1.0.
    assert _scores(langfuse_server) == [
        {
            "id": _score_id(call, "delivered"),
            "traceId": call_langfuse_trace_id(call_id=call.pk, traceparent=""),
            "name": "delivered",
            "value": 1.0,
            "dataType": "BOOLEAN",
            "comment": "Agreed to delivery",
            "metadata": {"field": "delivery_confirmed", "source": "rules"},
        }
    ]
    assert set(langfuse_server.authorizations) == {langfuse_server.basic_auth}


@pytest.mark.usefixtures("evaluated")
def test_scores_sent_again_keep_their_ids_and_only_evaluators_are_sent(
    call: Call, langfuse_server: LangfuseServer
) -> None:
    scores: dict[str, ScoreValue] = {"slot": "evening", "satisfaction": 4, "not_an_evaluator": 1}

    assert call_scores_send(call_id=call.pk, scores=scores) == ["slot", "satisfaction"]
    assert call_scores_send(call_id=call.pk, scores=scores) == ["slot", "satisfaction"]

    trace_id = call_langfuse_trace_id(call_id=call.pk, traceparent="")
    sent = {
        "slot": {
            "id": _score_id(call, "slot"),
            "traceId": trace_id,
            "name": "slot",
            "value": "evening",
            "dataType": "CATEGORICAL",
        },
        "satisfaction": {
            "id": _score_id(call, "satisfaction"),
            "traceId": trace_id,
            "name": "satisfaction",
            "value": 4.0,
            "dataType": "NUMERIC",
        },
    }
    assert _scores(langfuse_server) == [sent["slot"], sent["satisfaction"]] * 2


@pytest.mark.usefixtures("evaluated")
def test_without_langfuse_keys_nothing_is_sent(call: Call) -> None:
    assert call_scores_send(call_id=call.pk, scores={"slot": "evening"}) == []
