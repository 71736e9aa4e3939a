"""Scores on a call's Langfuse trace: the template's evaluators, after post-call extraction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from calls.langfuse.client import call_langfuse_trace_id, langfuse_client, langfuse_project_for
from calls.models import Call
from templates_app.definition.evaluators import template_evaluators

logger = logging.getLogger(__name__)

ScoreValue = bool | int | float | str


def call_scores_send(
    *, call_id: int, scores: Mapping[str, ScoreValue], source: str = ""
) -> list[str]:
    """Attach `scores` (evaluator name → value) to the call's trace; the names sent.

    Only names the call's template declares as evaluators are sent, typed as the template
    says; others are logged and left out. Each score's id is derived from the call and the
    name, so sending again (a retried task) replaces the score instead of adding one.
    Nothing is sent, and [] returned, when no Langfuse keys apply to the call's merchant.
    """
    call = Call.objects.select_related("template_version").get(pk=call_id)
    project = langfuse_project_for(merchant_id=call.merchant_id)
    if project is None:
        return []
    evaluators = {e.name: e for e in template_evaluators(call.template_version.definition)}
    unknown = sorted(set(scores) - set(evaluators))
    if unknown:
        logger.warning("call %s: not evaluators of its template: %s", call_id, unknown)
    client = langfuse_client(project)
    trace_id = call_langfuse_trace_id(call_id=call.pk, traceparent=call.traceparent)
    sent = []
    for name, value in scores.items():
        evaluator = evaluators.get(name)
        if evaluator is None:
            continue
        common: dict[str, Any] = {
            "score_id": client.create_trace_id(seed=f"breeze-call-{call.pk}-score-{name}"),
            "trace_id": trace_id,
            "name": name,
            "comment": evaluator.description or None,
            "metadata": {"field": evaluator.field, "source": source} if source else None,
        }
        if evaluator.data_type == "CATEGORICAL":
            client.create_score(value=str(value), data_type="CATEGORICAL", **common)
        elif evaluator.data_type == "BOOLEAN":
            client.create_score(value=float(bool(value)), data_type="BOOLEAN", **common)
        else:
            client.create_score(value=float(value), data_type="NUMERIC", **common)
        sent.append(name)
    client.flush()
    return sent


def call_evaluation_scores_send(*, call_id: int) -> list[str]:
    """Send the template's evaluators, read from the call's finished extraction."""
    call = Call.objects.select_related("template_version").get(pk=call_id)
    if call.extraction_status != Call.ExtractionStatus.DONE:
        return []
    fields = call.extraction.get("fields", {})
    scores = {
        evaluator.name: fields[evaluator.field]
        for evaluator in template_evaluators(call.template_version.definition)
        # A field extraction could not fill gives no score rather than a made-up one.
        if fields.get(evaluator.field) is not None
    }
    if not scores:
        return []
    return call_scores_send(
        call_id=call_id, scores=scores, source=str(call.extraction.get("source") or "")
    )


def call_evaluation_scores_enqueue(*, call_id: int) -> None:
    """After this transaction (the one finishing extraction) commits, send the scores."""
    from calls.langfuse.tasks import call_evaluation_scores_task

    transaction.on_commit(lambda: call_evaluation_scores_task.delay(call_id))
