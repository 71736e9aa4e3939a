"""Inbound routes: which template answers a call to one of a merchant's numbers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from config.models import Merchant, TimeStampedModel
from templates_app.definition.variables import payload_issues
from templates_app.models import Template, TemplateVersion

E164 = RegexValidator(r"^\+[1-9][0-9]{6,14}$", "An E.164 number such as +14155550100.")


class InboundRoute(TimeStampedModel):
    """A call to `number` at `provider` runs `template`'s published version."""

    class Provider(models.TextChoices):
        TWILIO = "twilio", "Twilio"
        PLIVO = "plivo", "Plivo"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="inbound_routes")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    number = models.CharField(max_length=16, validators=[E164])
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="inbound_routes")
    # Values for the template's variables: a caller brings none of a lead's payload.
    variables = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "number"], name="inboundroute_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_provider_display()}) → {self.template}"

    def clean(self) -> None:
        if self.template_id and self.merchant_id and self.template.merchant_id != self.merchant_id:
            raise ValidationError({"template": "The template belongs to another merchant."})
        published = (
            TemplateVersion.objects.filter(
                template_id=self.template_id, status=TemplateVersion.Status.PUBLISHED
            ).first()
            if self.template_id
            else None
        )
        if published is not None:
            issues = payload_issues(definition=published.definition, payload=self.variables)
            if issues:
                raise ValidationError(
                    {"variables": [f"{issue.path}: {issue.message}" for issue in issues]}
                )
