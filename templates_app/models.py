from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.models import Merchant, TimeStampedModel


class Template(TimeStampedModel):
    """What a merchant's bot says and does; its content lives in versions."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="templates")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    # Fernet token of the template's {name: value} secrets; only services read it.
    secrets_ciphertext = models.TextField(blank=True, default="", editable=False)
    secret_names = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["merchant__name", "name"]
        constraints = [
            # Leads name their template by slug within the merchant.
            models.UniqueConstraint(fields=["merchant", "slug"], name="template_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """One immutable-once-published revision of a template's definition."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    definition = models.JSONField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="version_unique_number"),
            # Edits collect in one draft; publishing it is what makes a new live version.
            models.UniqueConstraint(
                fields=["template"], condition=Q(status="draft"), name="version_one_draft"
            ),
            # New calls pin the one published version.
            models.UniqueConstraint(
                fields=["template"], condition=Q(status="published"), name="version_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number} ({self.get_status_display()})"
