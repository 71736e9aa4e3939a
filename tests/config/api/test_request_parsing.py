"""Bad bodies answer in the error format: malformed JSON, a wrong content type, too large."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from config.api.parsers import MAX_JSON_DEPTH
from config.models import ApiKey, Membership

Role = Membership.Role
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(member_of_acme: Callable[[str], User]) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=member_of_acme(Role.MERCHANT_ADMIN))
    return client


def test_malformed_json_is_a_parse_error(admin_client: APIClient) -> None:
    response = admin_client.post(
        "/api/v1/api-keys", '{"merchant": "acme",', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "type": "parse_error",
            "message": "JSON parse error - Expecting property name enclosed in double quotes: "
            "line 1 column 21 (char 20)",
        }
    }


def test_a_body_in_an_unsupported_content_type_is_refused(admin_client: APIClient) -> None:
    response = admin_client.post(
        "/api/v1/api-keys", "merchant=acme&role=viewer&name=x", content_type="text/plain"
    )

    assert response.status_code == 415
    assert response.json() == {
        "error": {
            "type": "unsupported_media_type",
            "message": 'Unsupported media type "text/plain" in request.',
        }
    }
    assert ApiKey.objects.count() == 0


def _body_of_size(size: int) -> str:
    body = json.dumps({"merchant": "acme", "role": "viewer", "name": ""})
    padding = size - len(body)
    return json.dumps({"merchant": "acme", "role": "viewer", "name": "x" * padding})[:-1] + "}"


def test_a_json_body_over_the_limit_is_refused_and_one_at_the_limit_is_read(
    admin_client: APIClient, settings: LazySettings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    at_limit, over = _body_of_size(100), _body_of_size(101)
    assert (len(at_limit), len(over)) == (100, 101)

    accepted = admin_client.post("/api/v1/api-keys", at_limit, content_type="application/json")
    refused = admin_client.post("/api/v1/api-keys", over, content_type="application/json")

    assert accepted.status_code == 201
    assert refused.status_code == 413
    assert refused.json() == {
        "error": {"type": "payload_too_large", "message": "The request body is too large."}
    }
    assert ApiKey.objects.count() == 1


def test_a_multipart_body_over_the_limit_is_refused(
    admin_client: APIClient, settings: LazySettings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = admin_client.post(
        "/api/v1/api-keys",
        {"merchant": "acme", "role": "viewer", "name": "x" * 200},
        format="multipart",
    )

    assert response.status_code == 413
    assert response.json()["error"]["type"] == "payload_too_large"


def test_the_default_limit_fits_a_bulk_of_ten_thousand_leads(settings: LazySettings) -> None:
    lead = {
        "template": "order-confirmation",
        "phone": "+919876543210",
        "execution_mode": "TELEPHONY",
        "idempotency_key": "order-000000001",
        "payload": {"order_id": "A-1000001", "customer_name": "Asha Verma", "amount": 1499},
    }
    body = json.dumps({"leads": [lead] * 10_000})

    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _definition_nested(levels: int) -> str:
    """A validate body whose containers nest `levels` deep, the body itself counted."""
    lists = levels - 2  # the body and its `definition` object are the first two
    return '{"definition": {"x": ' + "[" * lists + "]" * lists + "}}"


@pytest.mark.parametrize(
    ("levels", "status"),
    [(MAX_JSON_DEPTH, 200), (MAX_JSON_DEPTH + 1, 400), (950, 400), (200_000, 400)],
)
def test_json_nested_past_the_limit_is_a_parse_error_not_a_recursion_error(
    admin_client: APIClient, levels: int, status: int
) -> None:
    response = admin_client.post(
        "/api/v1/templates/validate", _definition_nested(levels), content_type="application/json"
    )

    assert response.status_code == status
    if status == 400:
        assert response.json() == {
            "error": {
                "type": "parse_error",
                "message": "JSON parse error - arrays and objects nested deeper than 64 levels.",
            }
        }
