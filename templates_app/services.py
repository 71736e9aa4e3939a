"""Writes for templates: drafts, publishing (validated), archiving, cloning, secrets."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.crypto import encrypt_json
from config.models import Merchant
from templates_app.definition.validation import shape_issues, validate_definition
from templates_app.demo import DEMO_TEMPLATES, demo_definition
from templates_app.exceptions import TemplateValidationError, VersionNotEditableError
from templates_app.models import Template, TemplateVersion
from templates_app.selectors import (
    template_secret_and_merchant_secret_names,
    template_version_draft,
    template_version_latest,
)
from templates_app.types import Issue, ValidationReport

Status = TemplateVersion.Status


def template_validate(*, template: Template, definition: Any) -> ValidationReport:
    return validate_definition(
        definition, secret_names=template_secret_and_merchant_secret_names(template=template)
    )


def template_create(
    *,
    merchant: Merchant,
    slug: str,
    name: str,
    definition: dict[str, Any],
    description: str = "",
    created_by: User | None = None,
) -> Template:
    """Create a template with its first draft; the draft must already be valid JSON shape."""
    template = Template(merchant=merchant, slug=slug, name=name, description=description)
    template.full_clean()
    with transaction.atomic():
        template.save()
        template_save_draft(template=template, definition=definition, created_by=created_by)
    return template


def template_save_draft(
    *,
    template: Template,
    definition: dict[str, Any],
    created_by: User | None = None,
    note: str = "",
) -> TemplateVersion:
    """Store an edit: it updates the template's draft, or starts a new draft after the latest.

    A draft may be unfinished (a transition to a node not written yet), so only its shape is
    enforced here; publishing runs every check.
    """
    errors = shape_issues(definition)
    if errors:
        raise TemplateValidationError(errors)
    with transaction.atomic():
        Template.objects.select_for_update().filter(pk=template.pk).first()
        draft = template_version_draft(template=template)
        if draft is None:
            number = (template.versions.aggregate(top=Max("number"))["top"] or 0) + 1
            draft = TemplateVersion(template=template, number=number, status=Status.DRAFT)
        draft.definition = definition
        draft.note = note
        draft.created_by = created_by
        draft.save()
    return draft


def template_version_publish(*, version: TemplateVersion) -> TemplateVersion:
    """Validate a draft fully, then make it the published version; the previous one is archived.

    Runs under a lock on the template, so two publishes cannot both win.
    """
    with transaction.atomic():
        template = Template.objects.select_for_update().get(pk=version.template_id)
        version = TemplateVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != Status.DRAFT:
            raise VersionNotEditableError(
                f"v{version.number} is {version.status}, not a draft", field="status"
            )
        report = template_validate(template=template, definition=version.definition)
        if not report.is_valid:
            raise TemplateValidationError(report.errors)
        template.versions.filter(status=Status.PUBLISHED).update(status=Status.ARCHIVED)
        updated = TemplateVersion.objects.filter(pk=version.pk, status=Status.DRAFT).update(
            status=Status.PUBLISHED, published_at=timezone.now()
        )
        assert updated == 1  # the row is locked above
    version.refresh_from_db()
    return version


def template_version_archive(*, version: TemplateVersion) -> TemplateVersion:
    """Retire a version; calls already pinned to it keep running on it."""
    TemplateVersion.objects.filter(pk=version.pk).exclude(status=Status.ARCHIVED).update(
        status=Status.ARCHIVED
    )
    version.refresh_from_db()
    return version


def template_version_edit(
    *, version: TemplateVersion, created_by: User | None = None
) -> TemplateVersion:
    """Start a draft from any version (published ones are never changed in place)."""
    return template_save_draft(
        template=version.template,
        definition=copy.deepcopy(version.definition),
        created_by=created_by,
        note=f"edited from v{version.number}",
    )


def template_clone(
    *,
    template: Template,
    slug: str,
    name: str,
    merchant: Merchant | None = None,
    created_by: User | None = None,
) -> Template:
    """Copy a template's latest version into a new template (and its secrets, same merchant)."""
    latest = template_version_latest(template=template)
    definition = copy.deepcopy(latest.definition) if latest else {}
    target_merchant = merchant or template.merchant
    with transaction.atomic():
        clone = template_create(
            merchant=target_merchant,
            slug=slug,
            name=name,
            description=template.description,
            definition=definition,
            created_by=created_by,
        )
        if target_merchant.pk == template.merchant_id and template.secrets_ciphertext:
            Template.objects.filter(pk=clone.pk).update(
                secrets_ciphertext=template.secrets_ciphertext, secret_names=template.secret_names
            )
            clone.refresh_from_db()
    return clone


def template_set_secrets(*, template: Template, secrets: dict[str, Any]) -> Template:
    bad = [
        key
        for key, value in secrets.items()
        if not isinstance(value, str) or not key.isidentifier()
    ]
    if bad:
        message = "secret names are identifiers and values are strings"
        raise TemplateValidationError([Issue(f"$.{key}", message) for key in bad])
    template.secrets_ciphertext = encrypt_json(secrets) if secrets else ""
    template.secret_names = sorted(secrets)
    template.save(update_fields=["secrets_ciphertext", "secret_names", "updated_at"])
    return template


def template_update(
    *, template: Template, name: str, description: str, is_active: bool
) -> Template:
    template.name = name
    template.description = description
    template.is_active = is_active
    template.full_clean()
    template.save(update_fields=["name", "description", "is_active", "updated_at"])
    return template


def template_load_demos(*, merchant: Merchant) -> list[Template]:
    """Create and publish the demo templates for `merchant`; existing ones are left alone."""
    templates = []
    for slug, (name, _) in DEMO_TEMPLATES.items():
        template = Template.objects.filter(merchant=merchant, slug=slug).first()
        if template is None:
            template = template_create(
                merchant=merchant, slug=slug, name=name, definition=demo_definition(slug)
            )
            draft = template_version_draft(template=template)
            assert draft is not None
            template_version_publish(version=draft)
        templates.append(template)
    return templates
