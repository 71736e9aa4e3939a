from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from config.models import Membership
from tests.config.api.conftest import bearer

Role = Membership.Role
pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def _obtain(username: str, password: str) -> tuple[int, dict[str, object]]:
    response = APIClient().post(
        "/api/v1/auth/token", {"username": username, "password": password}, format="json"
    )
    return response.status_code, response.json()


def test_a_person_gets_tokens_and_acts_with_their_role(
    member_of_acme: Callable[[str], User],
) -> None:
    admin = member_of_acme(Role.MERCHANT_ADMIN)

    status, tokens = _obtain(admin.username, PASSWORD)

    assert status == 200
    assert set(tokens) == {"access", "refresh"}
    assert bearer(str(tokens["access"])).get("/api/v1/api-keys").status_code == 200
    viewer = member_of_acme(Role.VIEWER)
    viewer_access = str(_obtain(viewer.username, PASSWORD)[1]["access"])
    assert bearer(viewer_access).get("/api/v1/api-keys").status_code == 403


def test_a_wrong_password_is_refused(member_of_acme: Callable[[str], User]) -> None:
    assert _obtain(member_of_acme(Role.OPERATOR).username, "guess") == (
        401,
        {
            "error": {
                "type": "authentication_failed",
                "message": "No active account found with the given credentials",
            }
        },
    )


def test_a_refresh_token_works_once(member_of_acme: Callable[[str], User]) -> None:
    _, tokens = _obtain(member_of_acme(Role.MERCHANT_ADMIN).username, PASSWORD)
    client = APIClient()

    first = client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]})
    again = client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]})

    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != tokens["refresh"]
    assert bearer(first.json()["access"]).get("/api/v1/api-keys").status_code == 200
    assert again.status_code == 401
    assert again.json() == {
        "error": {"type": "authentication_failed", "message": "Token is blacklisted"}
    }


def test_a_garbage_refresh_token_is_refused(db: None) -> None:
    response = APIClient().post("/api/v1/auth/token/refresh", {"refresh": "nonsense"})

    assert response.status_code == 401
    assert response.json() == {
        "error": {"type": "authentication_failed", "message": "Token is invalid"}
    }


def test_an_expired_access_token_is_refused(member_of_acme: Callable[[str], User]) -> None:
    token = AccessToken.for_user(member_of_acme(Role.MERCHANT_ADMIN))
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=1))

    response = bearer(str(token)).get("/api/v1/api-keys")

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "type": "authentication_failed",
            "message": "Given token not valid for any token type",
        }
    }


def test_a_token_signed_with_another_key_is_refused(
    member_of_acme: Callable[[str], User],
) -> None:
    _, tokens = _obtain(member_of_acme(Role.MERCHANT_ADMIN).username, PASSWORD)
    header, payload, signature = str(tokens["access"]).split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"

    assert bearer(forged).get("/api/v1/api-keys").status_code == 401


def test_a_deactivated_persons_token_stops_working(
    member_of_acme: Callable[[str], User],
) -> None:
    admin = member_of_acme(Role.MERCHANT_ADMIN)
    access = str(_obtain(admin.username, PASSWORD)[1]["access"])
    User.objects.filter(pk=admin.pk).update(is_active=False)

    response = bearer(access).get("/api/v1/api-keys")

    assert response.status_code == 401
    assert response.json()["error"] == {
        "type": "authentication_failed",
        "message": "User is inactive",
    }
