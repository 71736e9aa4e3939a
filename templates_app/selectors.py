from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Max, Q, QuerySet

from config.crypto import decrypt_json
from config.selectors import merchant_secret_names, scope_queryset
from config.types import Resource
from templates_app.models import Template, TemplateVersion

if TYPE_CHECKING:
    from config.selectors import AnyUser


def template_version_latest(*, template: Template) -> TemplateVersion | None:
    return template.versions.order_by("-number").first()


def template_version_draft(*, template: Template) -> TemplateVersion | None:
    return template.versions.filter(status=TemplateVersion.Status.DRAFT).first()


def template_version_published(*, template: Template) -> TemplateVersion | None:
    return template.versions.filter(status=TemplateVersion.Status.PUBLISHED).first()


def template_version_previous(*, version: TemplateVersion) -> TemplateVersion | None:
    return (
        TemplateVersion.objects.filter(template_id=version.template_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )


def template_get_by_slug(*, merchant_id: int, slug: str) -> Template | None:
    return Template.objects.filter(merchant_id=merchant_id, slug=slug).first()


def template_secret_and_merchant_secret_names(*, template: Template) -> set[str]:
    """Every `{name}` a definition may use besides its variables and the built-ins."""
    return set(template.secret_names) | merchant_secret_names(merchant_id=template.merchant_id)


def template_secret_values(*, template: Template) -> dict[str, str]:
    """Decrypted template secrets, for filling `{variables}` at call time; never for display."""
    return decrypt_json(template.secrets_ciphertext) if template.secrets_ciphertext else {}


def template_list(*, user: AnyUser, is_active: bool | None = None) -> QuerySet[Template]:
    templates = scope_queryset(
        Template.objects.select_related("merchant"), user=user, resource=Resource.TEMPLATE
    )
    if is_active is not None:
        templates = templates.filter(is_active=is_active)
    return templates


def template_get(*, user: AnyUser, template_id: int) -> Template | None:
    """A template the caller may view, with its published and draft version numbers."""
    return (
        template_list(user=user)
        .annotate(
            published_number=Max("versions__number", filter=Q(versions__status="published")),
            draft_number=Max("versions__number", filter=Q(versions__status="draft")),
        )
        .filter(pk=template_id)
        .first()
    )


def template_version_list(*, template: Template) -> QuerySet[TemplateVersion]:
    return template.versions.select_related("created_by")
