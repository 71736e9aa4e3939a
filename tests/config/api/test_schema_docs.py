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
