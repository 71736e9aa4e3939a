"""One person, two merchants, two roles: each request is judged by the role in its merchant.

docs/rbac.md: "an operator of Acme and viewer of Globex pushing a lead to Globex" is refused
(403) for the merchant the request is about, though the role allows it in another.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from config.models import ApiKey, Membership, Merchant
from config.services import membership_create
from leads.models import Lead
from tests.api.conftest import World, bearer, lead_body, multipart_import

Role = Membership.Role
pytestmark = pytest.mark.django_db


def _person(acme_role: str, member_of_acme: Callable[[str], User]) -> APIClient:
    """A JWT client for a person holding `acme_role` in Acme and `viewer` in Globex."""
    person = member_of_acme(acme_role)
    membership_create(user=person, merchant=Merchant.objects.get(slug="globex"), role=Role.VIEWER)
    return bearer(str(AccessToken.for_user(person)))


def test_an_acme_operator_and_globex_viewer_changes_only_acmes_leads(
    world: World, member_of_acme: Callable[[str], User]
) -> None:
    client = _person(Role.OPERATOR, member_of_acme)
    acme_lead, globex_lead = world.rows["acme"]["lead"], world.rows["globex"]["lead"]
    globex_before = list(Lead.objects.filter(merchant__slug="globex").values_list("pk", "status"))

    pushes = {
        merchant: client.post("/api/v1/leads", lead_body(merchant), format="json").status_code
        for merchant in ("acme", "globex")
    }
    bulk = client.post("/api/v1/leads/bulk", {"leads": [lead_body("globex")]}, format="json")
    upload = client.post("/api/v1/leads/import", multipart_import("globex"), format="multipart")
    reads = {pk: client.get(f"/api/v1/leads/{pk}").status_code for pk in (acme_lead, globex_lead)}
    cancels = {
        pk: client.post(f"/api/v1/leads/{pk}/cancel").status_code for pk in (globex_lead, acme_lead)
    }

    assert pushes == {"acme": 201, "globex": 403}
    assert (bulk.status_code, upload.status_code) == (403, 403)
    assert bulk.json()["error"] == {
        "type": "permission_denied",
        "message": "Your role may not push leads for this merchant.",
    }
    assert reads == {acme_lead: 200, globex_lead: 200}
    assert cancels == {globex_lead: 403, acme_lead: 200}
    assert list(Lead.objects.filter(merchant__slug="globex").values_list("pk", "status")) == (
        globex_before
    )


def test_an_acme_admin_and_globex_viewer_manages_only_acmes_keys(
    world: World, member_of_acme: Callable[[str], User]
) -> None:
    client = _person(Role.MERCHANT_ADMIN, member_of_acme)
    globex_key = world.rows["globex"]["api_key"]

    created = {
        merchant: client.post(
            "/api/v1/api-keys", {"merchant": merchant, "role": "viewer", "name": "k"}, format="json"
        ).status_code
        for merchant in ("acme", "globex")
    }
    listed = {row["merchant"] for row in client.get("/api/v1/api-keys").json()["results"]}
    revoke = client.post(f"/api/v1/api-keys/{globex_key}/revoke")

    # Globex is one of the person's merchants, so naming it is refused for the role (403);
    # its keys, which a viewer may not even view, stay out of sight (the list, 404).
    assert created == {"acme": 201, "globex": 403}
    assert listed == {"acme"}
    assert revoke.status_code == 404
    assert ApiKey.objects.get(pk=globex_key).revoked_at is None
