"""Template HTTP calls (global functions and hooks) against a local server."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from config.call_config import EffectiveConfig
from templates_app.demo import demo_definition
from templates_app.flows.conversation import converse
from templates_app.flows.factory import FlowInputs
from templates_app.flows.http import HttpRequest, http_request_from_config, send_http_request
from tests.conftest import free_port

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def test_config_fills_variables_and_turns_auth_into_headers() -> None:
    config = {
        "url": "https://crm.example.com/orders/{order_id}",
        "method": "PATCH",
        "headers": {"X-Agent": "{agent}"},
        "body": {"status": "{status}", "attempt": 2},
        "auth": {"type": "basic", "username": "{user}", "password": "pw"},
        "timeout": 3,
        "retries": 1,
    }

    request = http_request_from_config(
        config, {"order_id": "A1", "agent": "bot", "status": "ok", "user": "breeze"}
    )

    assert request == HttpRequest(
        method="PATCH",
        url="https://crm.example.com/orders/A1",
        headers={
            "X-Agent": "bot",
            "Authorization": "Basic " + base64.b64encode(b"breeze:pw").decode(),
        },
        body={"status": "ok", "attempt": 2},
        timeout=3.0,
        retries=1,
    )


async def test_variables_reach_the_server_percent_encoded_in_the_url_only(
    httpserver: HTTPServer,
) -> None:
    seen: list[tuple[str, str | None, object]] = []

    def record(request: Request) -> Response:
        seen.append(
            (request.environ["RAW_URI"], request.headers.get("X-Phone"), request.get_json())
        )
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/customers/+91 98100 00001/orders").respond_with_handler(record)
    config = {
        "url": httpserver.url_for("/customers/{phone}/orders") + "?phone={phone}&ref={ref}",
        "headers": {"X-Phone": "{phone}"},
        "body": {"phone": "{phone}", "ref": "{ref}"},
    }
    variables = {"phone": "+91 98100 00001", "ref": "a&b=c"}

    result = await send_http_request(http_request_from_config(config, variables))

    assert result.status == 200
    assert seen == [
        (
            "/customers/%2B91%2098100%2000001/orders?phone=%2B91%2098100%2000001&ref=a%26b%3Dc",
            "+91 98100 00001",
            {"phone": "+91 98100 00001", "ref": "a&b=c"},
        )
    ]


async def test_retries_5xx_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/stock", method="POST").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(
        "/stock", method="POST", json={"sku": "S1"}
    ).respond_with_json({"left": 4})

    result = await send_http_request(
        HttpRequest(method="POST", url=httpserver.url_for("/stock"), body={"sku": "S1"}, retries=2),
        backoff=0.01,
    )

    assert (result.ok, result.status, result.body) == (True, 200, {"left": 4})
    httpserver.check_assertions()


async def test_does_not_retry_other_4xx(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/missing").respond_with_data("nope", status=404)

    result = await send_http_request(
        HttpRequest(method="GET", url=httpserver.url_for("/missing"), retries=3), backoff=0.01
    )

    assert (result.ok, result.status, result.body) == (False, 404, "nope")
    assert len(httpserver.log) == 1


async def test_network_errors_are_reported_not_raised() -> None:
    request = HttpRequest(
        method="GET", url=f"http://127.0.0.1:{free_port()}/x", retries=1, timeout=1
    )

    result = await send_http_request(request, backoff=0.01)

    assert (result.ok, result.status) == (False, 0)
    assert result.error is not None
    assert result.error.startswith("ConnectError")


async def test_a_global_http_function_and_a_hook_reach_the_server_with_variables(
    httpserver: HTTPServer,
) -> None:
    seen: list[dict[str, object]] = []

    def record(request: Request) -> Response:
        seen.append(
            {
                "path": request.path,
                "auth": request.headers.get("Authorization"),
                "body": request.get_json(silent=True),
            }
        )
        return Response(json.dumps({"in_stock": True}), content_type="application/json")

    httpserver.expect_request("/stock/A1042").respond_with_handler(record)
    httpserver.expect_request("/crm").respond_with_handler(record)
    definition = copy.deepcopy(demo_definition("order-confirmation"))
    definition["global_functions"].append(
        {
            "type": "http",
            "name": "check_stock",
            "description": "Is the order in stock?",
            "examples": ["is it in stock"],
            "http": {
                "url": httpserver.url_for("/stock/{order_id}"),
                "method": "GET",
                "auth": {"type": "bearer", "token": "{crm_token}"},
            },
        }
    )
    definition["nodes"][0]["functions"][0]["hooks"].append(
        {
            "type": "http_request",
            "http": {
                "url": httpserver.url_for("/crm"),
                "body": {"order": "{order_id}", "confirmed": True},
            },
        }
    )
    variables = {
        "customer_name": "Asha",
        "order_id": "A1042",
        "order_total": "10",
        "merchant_name": "Acme",
        "crm_token": "tok-1",
    }
    inputs = FlowInputs(
        definition=definition, variables=variables, config=EffectiveConfig(base={}, playground={})
    )

    conversation = await converse(
        inputs, turns=["is it in stock", "yes please"], clock=NOW, send_http=True
    )

    assert seen == [
        {"path": "/stock/A1042", "auth": "Bearer tok-1", "body": None},
        {"path": "/crm", "auth": None, "body": {"order": "A1042", "confirmed": True}},
    ]
    assert conversation.outcome == "confirmed"
