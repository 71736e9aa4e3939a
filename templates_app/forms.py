from __future__ import annotations

import json
from typing import Any

from django import forms

from config.selectors import merchant_secret_names
from templates_app.definition.validation import shape_issues, validate_definition
from templates_app.models import Template
from templates_app.selectors import template_version_draft, template_version_latest

_MONOSPACE = {"class": "breeze-json", "spellcheck": "false", "autocomplete": "off"}


def parse_json_field(raw: str, *, expect_object: bool = True) -> Any:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise forms.ValidationError(
            f"Not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}."
        ) from error
    if expect_object and not isinstance(value, dict):
        raise forms.ValidationError("Enter a JSON object.")
    return value


class TemplateForm(forms.ModelForm[Template]):
    """Edits a template's details and its draft definition, validating as it saves."""

    definition = forms.CharField(
        widget=forms.Textarea(attrs={**_MONOSPACE, "rows": 32}),
        help_text="The flow definition (JSON). Saving stores it as the draft; publishing validates fully.",
    )
    secrets = forms.CharField(
        widget=forms.Textarea(attrs={**_MONOSPACE, "rows": 3}),
        required=False,
        help_text="Template secrets as a JSON object, usable as {name}. Write-only: blank keeps the stored ones.",
    )
    keep_unfinished = forms.BooleanField(
        required=False,
        label="Save an unfinished draft",
        help_text="Store the draft even though it has errors (publishing still refuses it).",
    )

    class Meta:
        model = Template
        fields = ["merchant", "slug", "name", "description", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report_warnings: list[str] = []
        if self.instance.pk:
            version = template_version_draft(template=self.instance) or template_version_latest(
                template=self.instance
            )
            if version is not None:
                self.fields["definition"].initial = json.dumps(
                    version.definition, indent=2, ensure_ascii=False
                )
            self.fields["secrets"].help_text = (
                f"Stored: {', '.join(self.instance.secret_names) or 'none'}. "
                + str(self.fields["secrets"].help_text)
            )

    def clean_definition(self) -> dict[str, Any]:
        value: dict[str, Any] = parse_json_field(self.cleaned_data["definition"])
        return value

    def clean_secrets(self) -> dict[str, Any] | None:
        raw = self.cleaned_data["secrets"].strip()
        return parse_json_field(raw) if raw else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        definition = cleaned.get("definition")
        merchant = cleaned.get("merchant") or getattr(self.instance, "merchant", None)
        if definition is None or merchant is None:
            return cleaned
        secrets = cleaned.get("secrets")
        names = set(secrets) if secrets is not None else set(self.instance.secret_names or [])
        names |= merchant_secret_names(merchant_id=merchant.pk)
        report = validate_definition(definition, secret_names=names)
        self.report_warnings = [f"{issue.path}: {issue.message}" for issue in report.warnings]
        # A draft may be unfinished in meaning, never in shape: shape errors always block.
        blocking = shape_issues(definition) or (
            [] if cleaned.get("keep_unfinished") else report.errors
        )
        if blocking:
            self.add_error("definition", [f"{issue.path}: {issue.message}" for issue in blocking])
        return cleaned
