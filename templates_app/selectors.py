from __future__ import annotations

from config.crypto import decrypt_json
from config.selectors import merchant_secret_names
from templates_app.models import Template, TemplateVersion


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
