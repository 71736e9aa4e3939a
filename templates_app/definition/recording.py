"""Who records a call (`execution.recording`), and which providers can record on request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from templates_app.types import Issue

# Providers whose own recording Breeze requests and downloads; any other provider's calls
# are recorded by the voice worker when the template asks for a provider recording.
PROVIDER_RECORDERS = frozenset({"twilio", "plivo"})


def recording_warnings(definition: Mapping[str, Any]) -> list[Issue]:
    """A provider recording asked of providers that cannot make one (the worker will)."""
    execution = definition.get("execution", {})
    if execution.get("recording") != "provider":
        return []
    providers = [entry["provider"] for entry in execution.get("telephony_providers") or []]
    if not providers and execution.get("telephony_provider"):
        providers = [execution["telephony_provider"]]
    return [
        Issue(
            "$.execution.recording",
            f"{provider} cannot record on request; the voice worker records its calls instead",
        )
        for provider in providers
        if provider not in PROVIDER_RECORDERS
    ]
