"""The OpenAPI schema and its Swagger UI are served from this deployment, with no CDN."""

from __future__ import annotations

import re

import pytest
import yaml
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_schema_describes_the_api_and_both_bearer_schemes() -> None:
    response = APIClient().get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/auth/token",
        "/api/v1/auth/token/refresh",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{api_key_id}",
        "/api/v1/api-keys/{api_key_id}/revoke",
    } <= set(schema["paths"])
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"]["scheme"] == "bearer"
    assert schemes["apiKey"]["bearerFormat"] == "brz_ API key"
    assert schemes["jwtAuth"]["bearerFormat"] == "JWT"
    create = schema["paths"]["/api/v1/api-keys"]["post"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiKeyCreated"
    }
    listing = schema["paths"]["/api/v1/api-keys"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"cursor", "page_size"}


def test_the_docs_page_loads_swagger_ui_from_local_static_files() -> None:
    client = APIClient()

    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn." not in html
    scripts = re.findall(r'src="([^"]+\.js)"', html)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in scripts
    for script in scripts:
        asset = client.get(script)
        assert asset.status_code == 200, script
        assert asset["Content-Type"].startswith("text/javascript"), script


def test_every_list_is_documented_as_the_cursor_page_it_answers() -> None:
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)

    lists = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                for content in response.get("content", {}).values():
                    # No endpoint answers a bare JSON array: lists come in cursor pages.
                    assert content["schema"].get("type") != "array", (method, path, code)
            answer = operation["responses"].get("200", {}).get("content", {})
            ref = answer.get("application/json", {}).get("schema", {}).get("$ref", "")
            if ref.startswith("#/components/schemas/Paginated"):
                lists[path] = {p["name"] for p in operation["parameters"]} >= {
                    "cursor",
                    "page_size",
                }

    assert lists == {
        "/api/v1/api-keys": True,
        "/api/v1/calls": True,
        "/api/v1/campaigns": True,
        "/api/v1/leads": True,
        "/api/v1/templates": True,
        "/api/v1/templates/{template_id}/versions": True,
        "/api/v1/webhook-deliveries": True,
        "/api/v1/webhook-endpoints": True,
    }
