from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from config.auth.principal import ApiKeyPrincipal
from config.models import ApiKey, Membership
from config.selectors import merchant_ids_allowing, user_may
from config.services import api_key_create, api_key_record_use, merchant_update
from config.types import Action, Resource
from tests.config.api.conftest import bearer
from tests.conftest import Tenants

Role = Membership.Role
pytestmark = pytest.mark.django_db


def _refusal(token: str, scheme: str = "Bearer") -> tuple[int, dict[str, object], str]:
    client = bearer(token)
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}".strip())
    response = client.get("/api/v1/api-keys")
    return response.status_code, response.json(), response.headers.get("WWW-Authenticate", "")


def test_a_key_acts_as_its_role_in_its_merchant_only(tenants: Tenants) -> None:
    api_key, _ = api_key_create(merchant=tenants.acme, role=Role.OPERATOR, name="k")
    principal = ApiKeyPrincipal(api_key)

    assert merchant_ids_allowing(user=principal, resource=Resource.LEAD, action=Action.ADD) == {
        tenants.acme.pk
    }
    assert not user_may(
        user=principal, resource=Resource.LEAD, action=Action.ADD, merchant_id=tenants.globex.pk
    )
    assert merchant_ids_allowing(user=principal, resource=Resource.API_KEY) == set()
    assert merchant_ids_allowing(user=principal, resource=Resource.PLATFORM) == set()


def test_an_expired_key_is_refused(tenants: Tenants) -> None:
    api_key, token = api_key_create(
        merchant=tenants.acme,
        role=Role.MERCHANT_ADMIN,
        name="k",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _refusal(token)[:2] == (
        401,
        {"error": {"type": "authentication_failed", "message": "This API key has expired."}},
    )


def test_a_key_of_an_inactive_merchant_is_refused(tenants: Tenants) -> None:
    _, token = api_key_create(merchant=tenants.acme, role=Role.MERCHANT_ADMIN, name="k")
    merchant_update(merchant=tenants.acme, is_active=False)

    assert _refusal(token)[:2] == (
        401,
        {
            "error": {
                "type": "authentication_failed",
                "message": "This API key's merchant is inactive.",
            }
        },
    )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # wrong secret
        lambda token: token[:20],  # truncated
        lambda token: token + "x",  # too long
        lambda token: "brz_" + "x" * 60,  # no such key
    ],
)
def test_a_wrong_or_malformed_key_is_refused(
    mangle: Callable[[str], str], key_token: Callable[..., str]
) -> None:
    status, body, challenge = _refusal(mangle(key_token(Role.MERCHANT_ADMIN)))

    assert (status, body) == (
        401,
        {"error": {"type": "authentication_failed", "message": "Invalid API key."}},
    )
    assert challenge == 'Bearer realm="api"'


def test_no_credentials_is_unauthenticated_with_a_bearer_challenge(db: None) -> None:
    response = APIClient().get("/api/v1/api-keys")

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "type": "not_authenticated",
            "message": "Authentication credentials were not provided.",
        }
    }
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("header_token", ["not-a-jwt", "a.b.c", "brz_ extra"])
def test_a_malformed_bearer_token_is_refused(header_token: str, db: None) -> None:
    status, body, _ = _refusal(header_token)

    assert status == 401
    assert body["error"]["type"] == "authentication_failed"  # type: ignore[index]


def test_last_use_is_recorded_at_most_once_a_minute(tenants: Tenants) -> None:
    api_key, token = api_key_create(merchant=tenants.acme, role=Role.MERCHANT_ADMIN, name="k")
    client = bearer(token)

    client.get("/api/v1/api-keys")
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    client.get("/api/v1/api-keys")
    api_key.refresh_from_db()

    assert first_use is not None
    assert timezone.now() - first_use < timedelta(seconds=5)
    assert api_key.last_used_at == first_use

    earlier = first_use - timedelta(seconds=61)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=earlier)
    client.get("/api/v1/api-keys")
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert api_key.last_used_at > first_use


def test_recording_use_skips_the_write_when_another_request_just_did_it(
    tenants: Tenants,
) -> None:
    api_key, _ = api_key_create(merchant=tenants.acme, role=Role.VIEWER, name="k")
    now = timezone.now()
    stale_copy = ApiKey.objects.get(pk=api_key.pk)
    api_key_record_use(api_key=api_key, now=now)

    api_key_record_use(api_key=stale_copy, now=now + timedelta(seconds=30))

    api_key.refresh_from_db()
    assert api_key.last_used_at == now
