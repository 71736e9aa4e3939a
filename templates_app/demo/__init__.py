"""Demo templates loaded by `make run`: each drives end to end with the offline rules engine."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parent
DEMO_TEMPLATES = {
    "order-confirmation": ("Cash-on-delivery order confirmation", "order_confirmation.json"),
    "abandoned-cart": ("Abandoned-cart recovery", "abandoned_cart.json"),
    "address-verification": ("Delivery address verification", "address_verification.json"),
}


def demo_definition(slug: str) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads((DEMO_DIR / DEMO_TEMPLATES[slug][1]).read_text())
    return definition


def demo_definition_dialling(
    slug: str, *, provider: str, caller: str, recording: str = "off"
) -> dict[str, Any]:
    """A demo template that dials through `provider` from `caller` at any hour.

    For the provider sandbox's demo templates and the tests that dial real adapters: the
    dispatcher never holds their leads for a calling window.
    """
    definition = copy.deepcopy(demo_definition(slug))
    execution = definition["execution"]
    execution["calling_windows"] = [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "24:00",
        }
    ]
    execution.pop("telephony_provider", None)
    execution.pop("number_selection", None)
    execution["telephony_providers"] = [
        {"provider": provider, "caller_numbers": [caller], "number_selection": "first"}
    ]
    execution["recording"] = recording
    return definition
