from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.db import connection

from config.services import merchant_secret_set
from templates_app.exceptions import TemplateValidationError, VersionNotEditableError
from templates_app.models import Template, TemplateVersion
from templates_app.selectors import template_secret_values, template_version_published
from templates_app.services import (
    template_clone,
    template_create,
    template_load_demos,
    template_save_draft,
    template_set_secrets,
    template_version_archive,
    template_version_edit,
    template_version_publish,
)
from tests.conftest import Tenants

Status = TemplateVersion.Status


@pytest.fixture
def template(tenants: Tenants, order_definition: dict[str, Any]) -> Template:
    return template_create(
        merchant=tenants.acme, slug="cod", name="COD", definition=order_definition
    )


def test_create_starts_with_one_draft(template: Template) -> None:
    assert list(template.versions.values_list("number", "status")) == [(1, Status.DRAFT)]


def test_edits_collect_in_the_single_draft(
    template: Template, order_definition: dict[str, Any]
) -> None:
    order_definition["greeting"] = "Hello!"

    draft = template_save_draft(template=template, definition=order_definition)

    assert list(template.versions.values_list("number", "status")) == [(1, Status.DRAFT)]
    assert TemplateVersion.objects.get(pk=draft.pk).definition["greeting"] == "Hello!"


def test_publish_then_edit_makes_a_new_draft_and_never_changes_the_published(
    template: Template, order_definition: dict[str, Any]
) -> None:
    first = template_version_publish(version=template.versions.get())
    published_definition = copy.deepcopy(first.definition)
    order_definition["greeting"] = "Changed"

    draft = template_save_draft(template=template, definition=order_definition)

    assert (first.status, draft.number, draft.status) == (Status.PUBLISHED, 2, Status.DRAFT)
    assert TemplateVersion.objects.get(pk=first.pk).definition == published_definition
    with pytest.raises(VersionNotEditableError):
        template_version_publish(version=first)


def test_publishing_archives_the_previous_published_version(
    template: Template, order_definition: dict[str, Any]
) -> None:
    first = template_version_publish(version=template.versions.get())
    second = template_version_publish(version=template_version_edit(version=first))

    assert list(template.versions.order_by("number").values_list("number", "status")) == [
        (1, Status.ARCHIVED),
        (2, Status.PUBLISHED),
    ]
    assert template_version_published(template=template) == second


def test_publish_refuses_an_invalid_draft_and_stores_nothing_published(
    template: Template, order_definition: dict[str, Any]
) -> None:
    order_definition["nodes"][0]["functions"][0]["transition_to"] = "nowhere"
    draft = template_save_draft(template=template, definition=order_definition)

    with pytest.raises(TemplateValidationError) as refused:
        template_version_publish(version=draft)

    assert [issue.as_dict() for issue in refused.value.issues] == [
        {"path": "$.nodes[0].functions[0].transition_to", "message": "no node is named 'nowhere'"}
    ]
    assert TemplateVersion.objects.get(pk=draft.pk).status == Status.DRAFT
    assert template_version_published(template=template) is None


def test_drafts_refuse_a_broken_shape(template: Template) -> None:
    with pytest.raises(TemplateValidationError) as refused:
        template_save_draft(template=template, definition={"nodes": "none"})

    assert refused.value.issues[0].path == "$"
    assert template.versions.count() == 1


def test_merchant_and_template_secrets_count_as_variables(
    template: Template, order_definition: dict[str, Any]
) -> None:
    order_definition["nodes"][0]["say"] = "Code {coupon} via {crm_token}"
    draft = template_save_draft(template=template, definition=order_definition)
    with pytest.raises(TemplateValidationError):
        template_version_publish(version=draft)

    template_set_secrets(template=template, secrets={"coupon": "SAVE10"})
    merchant_secret_set(merchant=template.merchant, name="crm_token", value="tok-123")

    assert template_version_publish(version=draft).status == Status.PUBLISHED


def test_template_secrets_are_encrypted_at_rest(template: Template) -> None:
    template_set_secrets(template=template, secrets={"coupon": "SAVE10-plain"})

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secrets_ciphertext, secret_names FROM templates_app_template WHERE id = %s",
            [template.pk],
        )
        ciphertext, names = cursor.fetchone()

    assert "SAVE10-plain" not in ciphertext
    assert json.loads(names) == ["coupon"]
    assert template_secret_values(template=Template.objects.get(pk=template.pk)) == {
        "coupon": "SAVE10-plain"
    }


def test_archive_and_clone(template: Template, tenants: Tenants) -> None:
    published = template_version_publish(version=template.versions.get())
    template_set_secrets(template=template, secrets={"coupon": "X"})

    archived = template_version_archive(version=published)
    clone = template_clone(template=template, slug="cod-copy", name="COD copy")
    elsewhere = template_clone(template=template, slug="cod", name="COD", merchant=tenants.globex)

    assert archived.status == Status.ARCHIVED
    assert clone.versions.get().definition == published.definition
    assert clone.secret_names == ["coupon"]
    assert (elsewhere.merchant, elsewhere.secret_names) == (tenants.globex, [])


def test_demo_templates_load_published_and_idempotent(tenants: Tenants) -> None:
    template_load_demos(merchant=tenants.acme)
    template_load_demos(merchant=tenants.acme)

    assert sorted(
        TemplateVersion.objects.filter(template__merchant=tenants.acme).values_list(
            "template__slug", "number", "status"
        )
    ) == [
        ("abandoned-cart", 1, Status.PUBLISHED),
        ("address-verification", 1, Status.PUBLISHED),
        ("order-confirmation", 1, Status.PUBLISHED),
    ]
