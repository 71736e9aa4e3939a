"""Demo templates loaded by `make run`: each drives end to end with the offline rules engine."""

from __future__ import annotations

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
