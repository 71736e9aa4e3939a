"""The one resolver of a call's effective configuration, and the only place that knows the order.

Lowest line wins:
1. environment defaults (`settings.BREEZE_CALL_DEFAULTS`),
2. dynamic flags (platform, then the merchant's own),
3. the template's config,
4. the current node's overrides (only `vad`, `interruption`, `input_collection`),
5. a playground override (`is_playground`, test execution modes only).

Node settings are always computed from layers 1 to 3 afresh, never from the previous node's
result: on every transition they are reset to the template's values, then the node's
overrides are applied, so nothing bleeds from one node into the next.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from config.exceptions import ApplicationError
from config.flags import flag_overrides

CALL_SECTIONS = ("stt", "tts", "llm", "vad", "interruption", "input_collection", "user_idle")
NODE_SECTIONS = ("vad", "interruption", "input_collection")
TEST_EXECUTION_MODES = frozenset({"TELEPHONY_TEST", "DAILY_TEST"})
# Modes whose lead is never dialled: it waits until a web or mobile client connects to it.
DAILY_EXECUTION_MODES = frozenset({"DAILY", "DAILY_TEST"})


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` into a copy of `base`; nested mappings merge, anything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def dotted_to_nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for dotted, value in sorted(flat.items()):
        *parents, leaf = dotted.split(".")
        target = nested
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return nested


def _only(config: Mapping[str, Any] | None, sections: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in (config or {}).items() if key in sections}


def check_playground_allowed(*, is_playground: bool, execution_mode: str) -> None:
    if is_playground and execution_mode not in TEST_EXECUTION_MODES:
        raise ApplicationError(
            f"playground overrides are only allowed in test modes, not {execution_mode}",
            field="is_playground",
        )


@dataclass(frozen=True)
class EffectiveConfig:
    """A call's resolved settings: layers 1 to 3 in `base`, layer 5 kept apart to apply last."""

    base: dict[str, Any]
    playground: dict[str, Any]

    @property
    def call(self) -> dict[str, Any]:
        return deep_merge(self.base, self.playground)

    def for_node(self, node_overrides: Mapping[str, Any] | None) -> dict[str, Any]:
        """Reset to the template's values, then apply this node's overrides (and the playground's)."""
        return deep_merge(
            deep_merge(self.base, _only(node_overrides, NODE_SECTIONS)), self.playground
        )


def resolve_call_config(
    *,
    merchant_id: int | None,
    template_config: Mapping[str, Any],
    execution_mode: str,
    playground_override: Mapping[str, Any] | None = None,
) -> EffectiveConfig:
    """Resolve the environment, flags and template layers once, at the start of a call."""
    check_playground_allowed(
        is_playground=playground_override is not None, execution_mode=execution_mode
    )
    base: dict[str, Any] = {}
    for layer in (
        _only(settings.BREEZE_CALL_DEFAULTS, CALL_SECTIONS),
        _only(dotted_to_nested(flag_overrides(merchant_id=merchant_id)), CALL_SECTIONS),
        _only(template_config, CALL_SECTIONS),
    ):
        base = deep_merge(base, layer)
    return EffectiveConfig(base=base, playground=_only(playground_override, CALL_SECTIONS))
