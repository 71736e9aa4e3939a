"""Gather what a flow needs from the database: the pinned definition, variables, config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.call_config import EffectiveConfig, resolve_call_config
from config.selectors import merchant_secret_values
from templates_app.definition.variables import payload_issues, variable_pool
from templates_app.exceptions import TemplateValidationError
from templates_app.models import TemplateVersion
from templates_app.selectors import template_secret_values


@dataclass(frozen=True)
class FlowInputs:
    definition: dict[str, Any]
    variables: dict[str, str]
    config: EffectiveConfig


def flow_inputs_for_version(
    *,
    version: TemplateVersion,
    payload: Mapping[str, Any],
    execution_mode: str,
    builtins: Mapping[str, str],
    playground_override: Mapping[str, Any] | None = None,
    reveal_secrets: bool = True,
) -> FlowInputs:
    """Everything to run `version` for one lead; refuses a payload the template cannot use.

    Reads the database (secrets, flags): call it once, before the conversation starts. With
    `reveal_secrets=False` (the playground) secrets stand in as `[secret name]`, so what the
    flow would send can be shown to people who may not see the secrets themselves.
    """
    template = version.template
    issues = payload_issues(definition=version.definition, payload=payload)
    if issues:
        raise TemplateValidationError(issues)
    template_secrets = template_secret_values(template=template)
    merchant_secrets = merchant_secret_values(merchant_id=template.merchant_id)
    if not reveal_secrets:
        template_secrets = {name: f"[secret {name}]" for name in template_secrets}
        merchant_secrets = {name: f"[secret {name}]" for name in merchant_secrets}
    variables = variable_pool(
        payload=payload,
        template_secrets=template_secrets,
        merchant_secrets=merchant_secrets,
        builtins={"merchant_name": template.merchant.name, **builtins},
    )
    config = resolve_call_config(
        merchant_id=template.merchant_id,
        template_config=version.definition,
        execution_mode=execution_mode,
        playground_override=playground_override,
    )
    return FlowInputs(definition=version.definition, variables=variables, config=config)
