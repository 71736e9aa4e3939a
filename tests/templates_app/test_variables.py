from __future__ import annotations

from typing import Any

import pytest

from templates_app.definition.variables import (
    payload_issues,
    render,
    render_deep,
    render_url,
    variable_pool,
)


def test_render_fills_known_and_keeps_unknown_placeholders() -> None:
    assert render("Hi {name}, order {order_id} {missing}", {"name": "Asha", "order_id": "A1"}) == (
        "Hi Asha, order A1 {missing}"
    )


def test_render_does_not_recurse() -> None:
    assert render("{a}", {"a": "{b}", "b": "deep"}) == "{b}"


def test_render_deep_fills_nested_structures() -> None:
    body = {"order": "{order_id}", "items": ["{sku}", 3], "meta": {"by": "{agent}"}}

    assert render_deep(body, {"order_id": "A1", "sku": "S9", "agent": "bot"}) == {
        "order": "A1",
        "items": ["S9", 3],
        "meta": {"by": "bot"},
    }


def test_render_url_encodes_values_in_the_path_and_query() -> None:
    url = "https://crm.example.com/customers/{phone}/notes?phone={phone}&note={note}#{anchor}"

    assert render_url(
        url, {"phone": "+91 98765", "note": "a&b=c/d ü", "anchor": "top section"}
    ) == (
        "https://crm.example.com/customers/%2B91%2098765/notes"
        "?phone=%2B91%2098765&note=a%26b%3Dc%2Fd%20%C3%BC#top%20section"
    )


def test_render_url_fills_a_base_or_host_as_written_and_keeps_the_template_s_text() -> None:
    values = {"api_base": "https://api.example.com/v1", "host": "shop.example.com:8443"}

    assert render_url(
        "{api_base}/orders/{order_id}?q=a%20b&x={missing}", values | {"order_id": "A/1"}
    ) == ("https://api.example.com/v1/orders/A%2F1?q=a%20b&x={missing}")
    assert render_url("https://{host}/o/{order_id}", values | {"order_id": "A 1"}) == (
        "https://shop.example.com:8443/o/A%201"
    )


def test_pool_order_is_payload_then_template_then_merchant_then_builtins() -> None:
    pool = variable_pool(
        payload={"token": "from-payload", "flag": True, "count": 3},
        template_secrets={"token": "from-template", "api": "template-api"},
        merchant_secrets={"api": "merchant-api", "only_merchant": "m"},
        builtins={"only_merchant": "builtin", "merchant_name": "Acme"},
    )

    assert pool == {
        "token": "from-payload",
        "flag": "yes",
        "count": "3",
        "api": "template-api",
        "only_merchant": "m",
        "merchant_name": "Acme",
    }


@pytest.mark.parametrize(
    ("_case", "payload", "expected"),
    [
        ("complete", {"customer_name": "Asha", "order_id": "A1", "order_total": "10"}, []),
        (
            "missing required",
            {"order_id": "A1", "order_total": "10"},
            [{"path": "$.customer_name", "message": "customer_name is required by this template"}],
        ),
        (
            "empty string counts as missing",
            {"customer_name": "", "order_id": "A1", "order_total": "10"},
            [{"path": "$.customer_name", "message": "customer_name is required by this template"}],
        ),
        (
            "wrong type",
            {"customer_name": 5, "order_id": "A1", "order_total": "10"},
            [{"path": "$.customer_name", "message": "customer_name must be a string"}],
        ),
        ("not an object", ["Asha"], [{"path": "$", "message": "payload must be a JSON object"}]),
    ],
)
def test_payload_issues(
    _case: str, payload: Any, expected: list[dict[str, str]], order_definition: dict[str, Any]
) -> None:
    assert [
        issue.as_dict() for issue in payload_issues(definition=order_definition, payload=payload)
    ] == expected


@pytest.mark.parametrize(
    ("kind", "good", "bad", "message"),
    [
        ("integer", 3, 3.5, "must be an integer"),
        ("integer", 3, True, "must be an integer"),
        ("number", 2.5, "2.5", "must be a number"),
        ("boolean", False, "no", "must be true or false"),
        ("date", "2026-11-30", "30/11/2026", "must be a date like 2026-11-25"),
    ],
)
def test_payload_types(kind: str, good: Any, bad: Any, message: str) -> None:
    definition = {"variables": [{"name": "value", "type": kind, "required": True}]}

    assert payload_issues(definition=definition, payload={"value": good}) == []
    assert [
        issue.message for issue in payload_issues(definition=definition, payload={"value": bad})
    ] == [f"value {message}"]
