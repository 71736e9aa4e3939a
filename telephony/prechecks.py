"""A template's pre-checks, asked at dial time before any provider: may this call go ahead?

Each check in `execution.pre_checks` is run by the function its `type` names in `PRECHECKS`.
The HTTP eligibility hook answers 2xx with `{"eligible": true|false, "reason": "…"}`.
A "no" ends the call `blocked` (the lead fails, no retry). A hook that cannot answer
(timeout, network error, non-2xx, a body without a boolean `eligible`) lets the call go ahead
when its `on_error` is `allow` (fail-open, the default) and ends the attempt as a transient
failure, retried by the lead's policy, when it is `block` (fail-closed).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from calls.models import Call
from calls.services import call_end
from config.selectors import merchant_secret_values
from templates_app.definition.variables import variable_pool
from templates_app.flows.http import http_request_from_config, send_http_request
from templates_app.selectors import template_secret_values

logger = logging.getLogger(__name__)
NOT_ELIGIBLE = "precheck_not_eligible"
UNAVAILABLE = "precheck_unavailable"


class Answer(enum.StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Verdict:
    answer: Answer
    detail: str = ""


def _http_check(check: Mapping[str, Any], variables: dict[str, str]) -> Verdict:
    # A hook that does not answer in its timeout is not asked again: the dial is waiting.
    config = {"method": "POST", "retries": 0, **check["http"]}
    result = asyncio.run(send_http_request(http_request_from_config(config, variables)))
    if not result.ok:
        return Verdict(Answer.UNAVAILABLE, result.error or f"answered {result.status}")
    eligible = result.body.get("eligible") if isinstance(result.body, dict) else None
    if not isinstance(eligible, bool):
        return Verdict(Answer.UNAVAILABLE, 'the answer has no boolean "eligible"')
    if eligible:
        return Verdict(Answer.ELIGIBLE)
    reason = result.body.get("reason")
    return Verdict(Answer.NOT_ELIGIBLE, reason if isinstance(reason, str) else "")


PRECHECKS: dict[str, Callable[[Mapping[str, Any], dict[str, str]], Verdict]] = {
    "http": _http_check,
}


def _variables(call: Call) -> dict[str, str]:
    """The same pool the call's own HTTP functions are filled from."""
    template = call.template_version.template
    return variable_pool(
        payload=call.payload,
        template_secrets=template_secret_values(template=template),
        merchant_secrets=merchant_secret_values(merchant_id=call.merchant_id),
        builtins={
            "merchant_name": template.merchant.name,
            "customer_phone": call.customer_phone,
            "call_id": str(call.pk),
        },
    )


def call_prechecks_run(*, call: Call) -> bool:
    """Run the template's pre-checks in order; True if the call may be dialled.

    A refused call is ended here: `blocked`/`precheck_not_eligible`, or, fail-closed,
    `failed`/`precheck_unavailable`.
    """
    checks = call.template_version.definition.get("execution", {}).get("pre_checks", [])
    if not checks:
        return True
    variables = _variables(call)
    for index, check in enumerate(checks):
        verdict = PRECHECKS[check["type"]](check, variables)
        if verdict.answer is Answer.ELIGIBLE:
            continue
        if verdict.answer is Answer.NOT_ELIGIBLE:
            logger.info("call %s: pre-check %s: not eligible: %s", call.pk, index, verdict.detail)
            call_end(call_id=call.pk, disposition=Call.Disposition.BLOCKED, end_reason=NOT_ELIGIBLE)
            return False
        fail_closed = check.get("on_error", "allow") == "block"
        logger.warning(
            "call %s: pre-check %s could not answer (%s); %s",
            call.pk,
            index,
            verdict.detail,
            "not dialling" if fail_closed else "dialling anyway",
        )
        if fail_closed:
            call_end(call_id=call.pk, disposition=Call.Disposition.FAILED, end_reason=UNAVAILABLE)
            return False
    return True
