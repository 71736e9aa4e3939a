from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from config.auth.tokens import api_key_token_digest
from config.models import ApiKey, Membership
from config.services import api_key_create
from tests.config.api.conftest import bearer
from tests.conftest import Tenants

Role = Membership.Role
pytestmark = pytest.mark.django_db


def _as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_a_merchant_admin_creates_a_key_seen_once_and_stored_hashed(
    member_of_acme: Callable[[str], User],
) -> None:
    admin = member_of_acme(Role.MERCHANT_ADMIN)

    response = _as(admin).post(
        "/api/v1/api-keys",
        {"merchant": "acme", "role": "operator", "name": "Shop back-end"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    api_key = ApiKey.objects.get(pk=body["id"])
    assert body["token"].startswith(f"{api_key.prefix}_")
    assert len(api_key.prefix) == 12
    assert api_key.prefix.startswith("brz_")
    assert api_key.secret_hash == api_key_token_digest(body["token"])
    assert body["token"] not in api_key.secret_hash
    assert {k: body[k] for k in ("merchant", "role", "name", "created_by", "revoked_at")} == {
        "merchant": "acme",
        "role": "operator",
        "name": "Shop back-end",
        "created_by": admin.username,
        "revoked_at": None,
    }
    detail = _as(admin).get(f"/api/v1/api-keys/{api_key.pk}").json()
    assert "token" not in detail
    assert "secret_hash" not in detail
    assert detail["prefix"] == api_key.prefix


def test_the_list_shows_only_the_callers_merchants_without_secrets(
    tenants: Tenants, member_of_acme: Callable[[str], User]
) -> None:
    own, _ = api_key_create(merchant=tenants.acme, role="viewer", name="acme key")
    api_key_create(merchant=tenants.globex, role="viewer", name="globex key")

    body = _as(member_of_acme(Role.MERCHANT_ADMIN)).get("/api/v1/api-keys").json()

    assert [row["id"] for row in body["results"]] == [own.pk]
    assert set(body["results"][0]) == {
        "id",
        "merchant",
        "role",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    }
    assert body["next"] is None


def test_a_platform_admin_sees_and_creates_keys_of_every_merchant(
    tenants: Tenants, member_of_acme: Callable[[str], User]
) -> None:
    api_key_create(merchant=tenants.acme, role="viewer", name="acme key")
    api_key_create(merchant=tenants.globex, role="viewer", name="globex key")
    client = _as(member_of_acme(Role.PLATFORM_ADMIN))

    created = client.post(
        "/api/v1/api-keys",
        {"merchant": "globex", "role": "merchant_admin", "name": "ops"},
        format="json",
    )

    assert created.status_code == 201
    names = [row["name"] for row in client.get("/api/v1/api-keys").json()["results"]]
    assert names == ["ops", "globex key", "acme key"]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_operators_and_viewers_may_not_list_or_create_keys(
    role: str, member_of_acme: Callable[[str], User]
) -> None:
    client = _as(member_of_acme(role))

    listed = client.get("/api/v1/api-keys")
    created = client.post(
        "/api/v1/api-keys", {"merchant": "acme", "role": "viewer", "name": "x"}, format="json"
    )

    for response in (listed, created):
        assert response.status_code == 403
        assert response.json()["error"]["type"] == "permission_denied"
    assert ApiKey.objects.count() == 0


def test_a_key_for_another_merchant_is_refused_as_unknown(
    member_of_acme: Callable[[str], User],
) -> None:
    response = _as(member_of_acme(Role.MERCHANT_ADMIN)).post(
        "/api/v1/api-keys", {"merchant": "globex", "role": "viewer", "name": "x"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == [
        {"field": "merchant", "code": "invalid", "message": "no merchant 'globex'"}
    ]
    assert ApiKey.objects.count() == 0


def test_bad_input_names_each_field(member_of_acme: Callable[[str], User]) -> None:
    past = (timezone.now() - timedelta(minutes=1)).isoformat()

    bad_role = _as(member_of_acme(Role.MERCHANT_ADMIN)).post(
        "/api/v1/api-keys",
        {"merchant": "acme", "role": "platform_admin", "name": ""},
        format="json",
    )
    expired = _as(member_of_acme(Role.PLATFORM_ADMIN)).post(
        "/api/v1/api-keys",
        {"merchant": "acme", "role": "viewer", "name": "x", "expires_at": past},
        format="json",
    )

    assert bad_role.status_code == 400
    assert [(f["field"], f["code"]) for f in bad_role.json()["error"]["fields"]] == [
        ("role", "invalid_choice"),
        ("name", "blank"),
    ]
    assert expired.status_code == 400
    assert expired.json()["error"]["fields"] == [
        {"field": "expires_at", "code": "invalid", "message": "the expiry must be in the future"}
    ]


def test_revoking_stops_the_key_and_keeps_the_first_revocation_time(
    tenants: Tenants, member_of_acme: Callable[[str], User]
) -> None:
    api_key, token = api_key_create(merchant=tenants.acme, role="viewer", name="old")
    assert bearer(token).get("/api/v1/api-keys").status_code == 403  # authenticated, a viewer
    client = _as(member_of_acme(Role.MERCHANT_ADMIN))

    first = client.post(f"/api/v1/api-keys/{api_key.pk}/revoke")
    second = client.post(f"/api/v1/api-keys/{api_key.pk}/revoke")

    assert first.status_code == 200
    assert second.status_code == 200
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert first.json()["revoked_at"] == second.json()["revoked_at"]
    assert first.json()["revoked_at"] == api_key.revoked_at.isoformat().replace("+00:00", "Z")
    refused = bearer(token).get("/api/v1/api-keys")
    assert refused.status_code == 401
    assert refused.json() == {
        "error": {"type": "authentication_failed", "message": "This API key has been revoked."}
    }


def test_another_merchants_key_is_not_found(
    tenants: Tenants, member_of_acme: Callable[[str], User]
) -> None:
    theirs, _ = api_key_create(merchant=tenants.globex, role="viewer", name="theirs")
    client = _as(member_of_acme(Role.MERCHANT_ADMIN))

    for response in (
        client.get(f"/api/v1/api-keys/{theirs.pk}"),
        client.post(f"/api/v1/api-keys/{theirs.pk}/revoke"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_merchant_admin_key_manages_keys_of_its_own_merchant(
    key_token: Callable[..., str],
) -> None:
    client = bearer(key_token(Role.MERCHANT_ADMIN))

    created = client.post(
        "/api/v1/api-keys", {"merchant": "acme", "role": "viewer", "name": "ci"}, format="json"
    )
    elsewhere = client.post(
        "/api/v1/api-keys", {"merchant": "globex", "role": "viewer", "name": "ci"}, format="json"
    )

    assert created.status_code == 201
    assert created.json()["created_by"] is None
    assert elsewhere.status_code == 400
