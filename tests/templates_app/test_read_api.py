"""Template reads over the API: scoped to the caller's merchants, versions with definitions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from config.models import Membership
from config.services import api_key_create, merchant_secret_set
from templates_app.demo import demo_definition
from templates_app.models import Template
from templates_app.services import template_load_demos, template_save_draft, template_update
from tests.conftest import Tenants

Role = Membership.Role
pytestmark = pytest.mark.django_db


@pytest.fixture
def demos(tenants: Tenants) -> dict[str, Template]:
    template_load_demos(merchant=tenants.acme)
    template_load_demos(merchant=tenants.globex)
    return {f"{t.merchant.slug}/{t.slug}": t for t in Template.objects.select_related("merchant")}


def _as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_a_viewer_lists_only_their_merchants_templates(
    demos: dict[str, Template], member_of_acme: Callable[[str], User]
) -> None:
    response = _as(member_of_acme(Role.VIEWER)).get("/api/v1/templates")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["merchant"] for row in rows} == {"acme"}
    assert sorted(row["slug"] for row in rows) == [
        "abandoned-cart",
        "address-verification",
        "order-confirmation",
    ]
    assert "secret_names" not in rows[0]
    assert "secrets_ciphertext" not in rows[0]


def test_the_list_filters_by_active_and_pages_by_cursor(
    demos: dict[str, Template], member_of_acme: Callable[[str], User]
) -> None:
    cart = demos["acme/abandoned-cart"]
    template_update(template=cart, name=cart.name, description="", is_active=False)
    client = _as(member_of_acme(Role.OPERATOR))

    inactive = client.get("/api/v1/templates", {"is_active": "false"}).json()["results"]
    first = client.get("/api/v1/templates", {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [row["slug"] for row in inactive] == ["abandoned-cart"]
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert second["next"] is None
    seen = {row["id"] for row in first["results"] + second["results"]}
    assert seen == {t.pk for key, t in demos.items() if key.startswith("acme/")}


def test_detail_names_the_published_and_draft_versions(
    demos: dict[str, Template], member_of_acme: Callable[[str], User]
) -> None:
    template = demos["acme/order-confirmation"]
    template_save_draft(template=template, definition=demo_definition("order-confirmation"))

    body = _as(member_of_acme(Role.VIEWER)).get(f"/api/v1/templates/{template.pk}").json()

    assert (body["slug"], body["published_version"], body["draft_version"]) == (
        "order-confirmation",
        1,
        2,
    )


def test_versions_list_without_and_detail_with_the_definition(
    demos: dict[str, Template], member_of_acme: Callable[[str], User]
) -> None:
    template = demos["acme/order-confirmation"]
    template_save_draft(
        template=template, definition=demo_definition("order-confirmation"), note="v2"
    )
    client = _as(member_of_acme(Role.VIEWER))

    listed = client.get(f"/api/v1/templates/{template.pk}/versions").json()["results"]
    one = client.get(f"/api/v1/templates/{template.pk}/versions/1").json()
    missing = client.get(f"/api/v1/templates/{template.pk}/versions/9")

    assert [(row["number"], row["status"], row["note"]) for row in listed] == [
        (2, "draft", "v2"),
        (1, "published", ""),
    ]
    assert "definition" not in listed[0]
    assert one["definition"] == demo_definition("order-confirmation")
    assert missing.status_code == 404


def test_another_merchants_template_is_not_found_anywhere(
    demos: dict[str, Template], member_of_acme: Callable[[str], User]
) -> None:
    theirs = demos["globex/order-confirmation"]
    client = _as(member_of_acme(Role.MERCHANT_ADMIN))

    for path in (
        f"/api/v1/templates/{theirs.pk}",
        f"/api/v1/templates/{theirs.pk}/versions",
        f"/api/v1/templates/{theirs.pk}/versions/1",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"error": {"type": "not_found", "message": "Not found."}}


@pytest.mark.parametrize("role", [Role.MERCHANT_ADMIN, Role.OPERATOR, Role.VIEWER])
def test_an_api_key_validates_with_its_merchants_secrets_only(
    role: str, demos: dict[str, Template], tenants: Tenants
) -> None:
    """Validating writes nothing, so every role's key may; it reads only its own merchant."""
    merchant_secret_set(merchant=tenants.acme, name="coupon", value="SAVE10")
    merchant_secret_set(merchant=tenants.globex, name="coupon", value="SAVE20")
    _, token = api_key_create(merchant=tenants.acme, role=role, name="validator")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    definition = demos["acme/order-confirmation"].versions.get().definition
    definition["nodes"][0]["say"] = "Use {coupon}."

    with_secrets = client.post(
        "/api/v1/templates/validate", {"definition": definition, "merchant": "acme"}, format="json"
    )
    without = client.post("/api/v1/templates/validate", {"definition": definition}, format="json")
    foreign = client.post(
        "/api/v1/templates/validate",
        {"definition": definition, "merchant": "globex"},
        format="json",
    )

    assert (with_secrets.status_code, with_secrets.json()) == (
        200,
        {"valid": True, "errors": [], "warnings": []},
    )
    assert (without.status_code, without.json()["valid"], without.json()["errors"]) == (
        200,
        False,
        [
            {
                "path": "$.nodes[0].say",
                "message": "{coupon} is not a declared variable, a template or merchant secret, "
                "or a built-in",
            }
        ],
    )
    assert (foreign.status_code, foreign.json()["error"]["fields"]) == (
        400,
        [{"field": "merchant", "code": "invalid", "message": "no merchant 'globex'"}],
    )
