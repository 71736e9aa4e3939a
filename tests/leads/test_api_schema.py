"""Every lead endpoint in the served OpenAPI schema has examples, and they match its shapes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from drf_spectacular.utils import OpenApiExample
from rest_framework.test import APIClient

from leads.api import examples

pytestmark = pytest.mark.django_db

LEAD_PATHS = {
    "/api/v1/leads": {"get", "post"},
    "/api/v1/leads/bulk": {"post"},
    "/api/v1/leads/import": {"post"},
    "/api/v1/leads/{lead_id}": {"get"},
    "/api/v1/leads/{lead_id}/cancel": {"post"},
    "/api/v1/leads/{lead_id}/dispatch-now": {"post"},
    "/api/v1/lead-imports/{import_id}": {"get"},
}
# The content type each lead endpoint documents its request in (dispatch-now takes no body).
REQUEST_TYPES = {
    ("/api/v1/leads", "post"): "application/json",
    ("/api/v1/leads/bulk", "post"): "application/json",
    ("/api/v1/leads/import", "post"): "multipart/form-data",
    ("/api/v1/leads/{lead_id}/cancel", "post"): "application/json",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    loaded: dict[str, Any] = yaml.safe_load(response.content)
    return loaded


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _assert_shape(schema: dict[str, Any], node: dict[str, Any], value: Any, where: str) -> None:
    """Object examples carry exactly the properties the schema declares, recursively."""
    node = _resolve(schema, node)
    if node.get("type") == "array" and isinstance(value, list):
        for index, item in enumerate(value):
            _assert_shape(schema, node["items"], item, f"{where}.{index}")
    elif "properties" in node and isinstance(value, dict):
        optional = set(node["properties"]) - set(node.get("required", []))
        assert set(node["properties"]) - optional <= set(value) <= set(node["properties"]), where
        for key, item in value.items():
            _assert_shape(schema, node["properties"][key], item, f"{where}.{key}")


def test_the_lead_endpoints_are_the_documented_ones(schema: dict[str, Any]) -> None:
    served = {
        path: set(operations)
        for path, operations in schema["paths"].items()
        if path.startswith(("/api/v1/leads", "/api/v1/lead-imports"))
    }

    assert served == LEAD_PATHS


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method) for path, methods in LEAD_PATHS.items() for method in sorted(methods)],
)
def test_every_request_and_answer_has_an_example_of_its_shape(
    schema: dict[str, Any], path: str, method: str
) -> None:
    operation = schema["paths"][path][method]

    request_type = REQUEST_TYPES.get((path, method))
    if request_type is None:
        assert "requestBody" not in operation or method == "get"
    else:
        request = operation["requestBody"]["content"][request_type]
        assert request["examples"], "request"
        for name, example in request["examples"].items():
            _assert_shape(schema, request["schema"], example["value"], f"request {name}")
    assert any(code.startswith("2") for code in operation["responses"])
    for code, response in operation["responses"].items():
        content = response["content"]["application/json"]
        assert content["examples"], code
        for name, example in content["examples"].items():
            _assert_shape(schema, content["schema"], example["value"], f"{code} {name}")
            if not code.startswith("2"):
                assert example["value"]["error"]["type"], name


def test_every_declared_example_is_served(schema: dict[str, Any]) -> None:
    declared = {
        example.name
        for value in vars(examples).values()
        if isinstance(value, list)
        for example in value
        if isinstance(example, OpenApiExample)
    }
    served = {
        example.get("summary", key)
        for path in LEAD_PATHS
        for operation in schema["paths"][path].values()
        for part in [operation.get("requestBody", {}), *operation["responses"].values()]
        for content in part.get("content", {}).values()
        for key, example in content.get("examples", {}).items()
    }

    assert served == declared
