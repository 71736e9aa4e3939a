"""Lead payloads for the demo templates, shared by the tests that converse with them."""

from __future__ import annotations

from typing import Any

DEMO_PAYLOADS: dict[str, dict[str, Any]] = {
    "order-confirmation": {
        "customer_name": "Asha",
        "order_id": "A1042",
        "order_total": "1,499 rupees",
    },
    "abandoned-cart": {
        "customer_name": "Ravi",
        "cart_items": "running shoes",
        "discount_code": "SAVE10",
    },
    "address-verification": {
        "customer_name": "Meera",
        "address_line": "12 Lake Road",
        "city": "Pune",
        "pincode": "411001",
    },
}
