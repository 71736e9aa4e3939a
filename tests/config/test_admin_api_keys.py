"""API keys in the admin: issued once with a visible token, revoked through the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.auth.tokens import api_key_token_digest
from config.models import ApiKey, Membership
from config.services import api_key_create
from tests.config.api.conftest import bearer
from tests.conftest import Tenants

Role = Membership.Role
pytestmark = pytest.mark.django_db


def test_adding_a_key_shows_its_token_once(
    tenants: Tenants, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    response = client.post(
        reverse("admin:config_apikey_add"),
        {"merchant": tenants.acme.pk, "role": "operator", "name": "Shop", "expires_at": ""},
        follow=True,
    )

    api_key = ApiKey.objects.get()
    message, added = [str(m) for m in response.context["messages"]]
    token = message.rsplit(" ", 1)[1]
    assert message == f"Copy the key now, it is not shown again: {token}"
    assert added.startswith(f"The API key “Shop ({api_key.prefix}…)” was added successfully.")
    assert api_key_token_digest(token) == api_key.secret_hash
    assert (api_key.merchant, api_key.role, api_key.created_by) == (
        tenants.acme,
        "operator",
        User.objects.get(username="merchant_admin-acme"),
    )
    page = client.get(reverse("admin:config_apikey_change", args=[api_key.pk]))
    assert page.status_code == 200
    assert token not in page.content.decode()
    assert api_key.prefix in page.content.decode()
    listing = client.get(reverse("admin:config_apikey_changelist")).content.decode()
    assert (token not in listing, api_key.prefix in listing) == (True, True)
    # The token shown is the working secret: it authenticates as an operator of Acme.
    assert bearer(token).get("/api/v1/leads").status_code == 200
    assert bearer(token).get("/api/v1/api-keys").status_code == 403


def test_the_admin_refuses_a_past_expiry_and_another_merchant(
    tenants: Tenants, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))
    past = timezone.localtime() - timedelta(days=1)

    response = client.post(
        reverse("admin:config_apikey_add"),
        {
            "merchant": tenants.globex.pk,
            "role": "viewer",
            "name": "x",
            "expires_at_0": past.strftime("%Y-%m-%d"),
            "expires_at_1": past.strftime("%H:%M:%S"),
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["expires_at"] == ["the expiry must be in the future"]
    assert errors["merchant"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert ApiKey.objects.count() == 0


def test_the_revoke_action_revokes_only_visible_keys(
    tenants: Tenants, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    own, _ = api_key_create(merchant=tenants.acme, role="viewer", name="own")
    theirs, _ = api_key_create(merchant=tenants.globex, role="viewer", name="theirs")
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    response = client.post(
        reverse("admin:config_apikey_changelist"),
        {"action": "revoke", "_selected_action": [own.pk, theirs.pk]},
    )

    assert response.status_code == 302
    own.refresh_from_db()
    theirs.refresh_from_db()
    assert own.revoked_at is not None
    assert theirs.revoked_at is None


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_operators_and_viewers_have_no_api_key_admin(
    role: str,
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    api_key, _ = api_key_create(merchant=tenants.acme, role="viewer", name="own")
    client = login(member_of_acme(role))

    assert client.get(reverse("admin:config_apikey_changelist")).status_code == 403
    assert client.get(reverse("admin:config_apikey_change", args=[api_key.pk])).status_code == 403
