"""The template editor in the admin: validate on save, errors by path, publish, versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from config.models import Membership
from templates_app.models import Template, TemplateVersion
from templates_app.selectors import template_version_draft, template_version_published
from templates_app.services import template_load_demos
from tests.conftest import Tenants

Role = Membership.Role
Status = TemplateVersion.Status


@pytest.fixture
def demo(tenants: Tenants) -> Template:
    template_load_demos(merchant=tenants.acme)
    template_load_demos(merchant=tenants.globex)
    return Template.objects.get(merchant=tenants.acme, slug="order-confirmation")


def _change_url(template: Template) -> str:
    return reverse("admin:templates_app_template_change", args=[template.pk])


def _form(template: Template, definition: Any, **extra: str) -> dict[str, str]:
    raw = definition if isinstance(definition, str) else json.dumps(definition)
    return {
        "name": template.name,
        "description": "",
        "is_active": "on",
        "definition": raw,
        "secrets": "",
        **extra,
    }


def _errors(response: Any) -> dict[str, list[str]]:
    return dict(response.context["adminform"].form.errors)


def test_editor_shows_the_published_definition(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    response = login(member_of_acme(Role.OPERATOR)).get(_change_url(demo))

    assert response.status_code == 200
    assert (
        json.loads(response.context["adminform"].form["definition"].value())
        == demo.versions.get().definition
    )


def test_a_broken_field_is_reported_by_path_and_nothing_is_stored(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    definition = demo.versions.get().definition
    definition["nodes"][0]["functions"][0]["transition_to"] = "shipped"

    response = login(member_of_acme(Role.OPERATOR)).post(_change_url(demo), _form(demo, definition))

    assert response.status_code == 200
    assert _errors(response) == {
        "definition": ["$.nodes[0].functions[0].transition_to: no node is named 'shipped'"]
    }
    assert demo.versions.count() == 1


def test_invalid_json_is_reported_with_its_position(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    response = login(member_of_acme(Role.OPERATOR)).post(
        _change_url(demo), _form(demo, '{"nodes": [}')
    )

    assert _errors(response) == {
        "definition": ["Not valid JSON at line 1, column 12: Expecting value."]
    }


def test_unfinished_drafts_can_be_kept_but_not_published(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    definition = demo.versions.get().definition
    definition["nodes"][0]["functions"][0]["transition_to"] = "shipped"

    response = login(member_of_acme(Role.MERCHANT_ADMIN)).post(
        _change_url(demo), _form(demo, definition, keep_unfinished="on", _publish="1"), follow=True
    )

    draft = template_version_draft(template=demo)
    assert draft is not None
    assert draft.definition["nodes"][0]["functions"][0]["transition_to"] == "shipped"
    published = template_version_published(template=demo)
    assert published is not None
    assert published.number == 1
    assert "Not published. $.nodes[0].functions[0].transition_to: no node is named 'shipped'" in [
        str(message) for message in response.context["messages"]
    ]


def test_fix_and_publish(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    definition = demo.versions.get().definition
    definition["nodes"][0]["say"] = "Shall we deliver order {order_id} today?"

    response = login(member_of_acme(Role.OPERATOR)).post(
        _change_url(demo), _form(demo, definition, _publish="1")
    )

    assert response.status_code == 302
    assert list(demo.versions.order_by("number").values_list("number", "status")) == [
        (1, Status.ARCHIVED),
        (2, Status.PUBLISHED),
    ]
    published = template_version_published(template=demo)
    assert published is not None
    assert published.definition["nodes"][0]["say"] == "Shall we deliver order {order_id} today?"


def test_version_page_draws_the_graph_and_the_diff(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.OPERATOR))
    definition = demo.versions.get().definition
    definition["greeting"] = "Hello there."
    client.post(_change_url(demo), _form(demo, definition))
    draft = template_version_draft(template=demo)
    assert draft is not None

    page = client.get(
        reverse("admin:templates_app_templateversion_change", args=[draft.pk])
    ).content.decode()

    assert page.count("<rect ") == 6
    assert ">confirm_order</text>" in page
    assert (
        '<span class="diff-add">+  &quot;greeting&quot;: &quot;Hello there.&quot;,</span>' in page
    )
    assert f'formaction="/admin/templates_app/templateversion/{draft.pk}/publish/"' in page


def test_version_actions_publish_archive_and_edit(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))
    published = demo.versions.get()

    edit = client.post(reverse("admin:templates_app_templateversion_edit", args=[published.pk]))
    draft = template_version_draft(template=demo)
    assert draft is not None
    publish = client.post(reverse("admin:templates_app_templateversion_publish", args=[draft.pk]))
    archive = client.post(reverse("admin:templates_app_templateversion_archive", args=[draft.pk]))

    assert (edit.status_code, publish.status_code, archive.status_code) == (302, 302, 302)
    assert list(demo.versions.order_by("number").values_list("status", flat=True)) == [
        Status.ARCHIVED,
        Status.ARCHIVED,
    ]


def test_viewers_cannot_change_templates_or_versions(
    demo: Template, member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.VIEWER))
    version = demo.versions.get()

    save = client.post(_change_url(demo), _form(demo, version.definition, _publish="1"))
    archive = client.post(reverse("admin:templates_app_templateversion_archive", args=[version.pk]))

    assert (save.status_code, archive.status_code) == (403, 403)
    assert TemplateVersion.objects.get(pk=version.pk).status == Status.PUBLISHED


def test_other_merchants_templates_are_invisible(
    demo: Template,
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))
    theirs = Template.objects.get(merchant=tenants.globex, slug="order-confirmation")

    listing = client.get(reverse("admin:templates_app_template_changelist"))
    change = client.get(_change_url(theirs))
    version = client.post(
        reverse("admin:templates_app_templateversion_archive", args=[theirs.versions.get().pk])
    )

    assert [t.merchant_id for t in listing.context["cl"].result_list] == [tenants.acme.pk] * 3
    assert change.status_code == 302
    assert version.status_code == 404


def test_create_a_template_in_the_admin(
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
    order_definition: dict[str, Any],
) -> None:
    response = login(member_of_acme(Role.MERCHANT_ADMIN)).post(
        reverse("admin:templates_app_template_add"),
        {
            "merchant": tenants.acme.pk,
            "slug": "cod-2",
            "name": "COD 2",
            "is_active": "on",
            "definition": json.dumps(order_definition),
            "secrets": '{"coupon": "SAVE10"}',
        },
    )

    assert response.status_code == 302
    template = Template.objects.get(slug="cod-2")
    assert (template.merchant, template.secret_names) == (tenants.acme, ["coupon"])
    assert list(template.versions.values_list("number", "status")) == [(1, Status.DRAFT)]


def test_validate_api_reports_errors_and_warnings(
    demo: Template,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
    order_definition: dict[str, Any],
) -> None:
    client = login(member_of_acme(Role.OPERATOR))
    order_definition["nodes"][0]["say"] = "{coupon}"

    valid = client.post(
        "/api/v1/templates/validate",
        {"definition": demo.versions.get().definition},
        content_type="application/json",
    )
    invalid = client.post(
        "/api/v1/templates/validate",
        {"definition": order_definition},
        content_type="application/json",
    )
    missing = client.post(
        "/api/v1/templates/validate", {"merchant": "acme"}, content_type="application/json"
    )
    foreign = client.post(
        "/api/v1/templates/validate",
        {"definition": {}, "merchant": "globex"},
        content_type="application/json",
    )

    assert (valid.status_code, valid.json()) == (200, {"valid": True, "errors": [], "warnings": []})
    assert invalid.json() == {
        "valid": False,
        "errors": [
            {
                "path": "$.nodes[0].say",
                "message": "{coupon} is not a declared variable, a template or merchant secret, or a built-in",
            }
        ],
        "warnings": [],
    }
    assert (missing.status_code, missing.json()["error"]["fields"]) == (
        400,
        [{"field": "definition", "code": "required", "message": "This field is required."}],
    )
    assert (foreign.status_code, foreign.json()["error"]["fields"]) == (
        400,
        [{"field": "merchant", "code": "invalid", "message": "no merchant 'globex'"}],
    )


def test_validate_api_needs_credentials(client: Client, db: None) -> None:
    response = client.post(
        "/api/v1/templates/validate", {"definition": {}}, content_type="application/json"
    )

    assert response.status_code == 401
