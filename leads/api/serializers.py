"""Shapes of the lead API. Input serializers document requests; `leads.validation` checks them.

Pushed leads are checked in plain Python (`leads.validation.lead_clean`), not by these
serializers: the same checks serve the single push, 10,000-lead bulks and CSV rows, at a
speed DRF field validation cannot reach. The input serializers here exist for the schema.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from leads.models import Lead, LeadImport


class LeadInputSerializer(serializers.Serializer[Any]):
    template = serializers.CharField(help_text="The template's slug or id.")
    merchant = serializers.SlugField(
        required=False, help_text="Merchant slug; needed only if the slug exists in several."
    )
    phone = serializers.CharField(
        help_text="E.164 (+919812345678), or national form in the merchant's country."
    )
    payload = serializers.DictField(required=False, help_text="Values of the template's variables.")
    execution_mode = serializers.ChoiceField(
        choices=Lead.ExecutionMode.choices, default=Lead.ExecutionMode.TELEPHONY
    )
    time_zone = serializers.CharField(required=False, help_text="IANA time zone of the customer.")
    scheduled_at = serializers.DateTimeField(
        required=False, help_text="Earliest call time, with a UTC offset; default now."
    )
    idempotency_key = serializers.CharField(
        required=False, max_length=255, help_text="Also accepted as the Idempotency-Key header."
    )
    webhook_url = serializers.URLField(required=False)
    is_playground = serializers.BooleanField(default=False, help_text="Test modes only.")
    config_overrides = serializers.DictField(
        required=False, help_text="Playground overrides by section (stt, tts, llm, vad…)."
    )


class LeadBulkInputSerializer(serializers.Serializer[Any]):
    leads = LeadInputSerializer(many=True, help_text="At most 10,000 leads.")


class LeadBulkItemSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField()
    idempotency_key = serializers.CharField()
    created = serializers.BooleanField(help_text="False when the key was pushed before.")


class LeadBulkOutputSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    leads = LeadBulkItemSerializer(many=True)


class LeadSerializer(serializers.ModelSerializer[Lead]):
    merchant = serializers.CharField(source="merchant.slug", read_only=True)
    template = serializers.CharField(source="template.slug", read_only=True)
    template_version = serializers.IntegerField(source="template_version.number", read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "merchant",
            "template",
            "template_version",
            "phone",
            "payload",
            "execution_mode",
            "time_zone",
            "scheduled_at",
            "idempotency_key",
            "webhook_url",
            "is_playground",
            "config_overrides",
            "status",
            "next_attempt_at",
            "attempts",
            "last_disposition",
            "outcome",
            "outcome_fields",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LeadTransitionSerializer(serializers.Serializer[Any]):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class LeadCallSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField()
    disposition = serializers.CharField()
    outcome = serializers.CharField()
    provider = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)


class LeadDetailSerializer(LeadSerializer):
    transitions = LeadTransitionSerializer(many=True, read_only=True)
    calls = serializers.SerializerMethodField()

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "transitions", "calls"]
        read_only_fields = fields

    def get_calls(self, lead: Lead) -> Any:
        return LeadCallSerializer(self.context["calls"], many=True).data


class LeadListFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Lead.Status.choices, required=False)
    template = serializers.CharField(required=False, help_text="Template slug or id.")
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    phone = serializers.CharField(required=False, help_text="E.164; encode + as %2B.")


class LeadCancelInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, max_length=300, allow_blank=True)


class LeadImportInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="CSV, UTF-8: a `phone` column and one per variable.")
    template = serializers.CharField(help_text="The template's slug or id.")
    merchant = serializers.SlugField(required=False)
    execution_mode = serializers.ChoiceField(
        choices=Lead.ExecutionMode.choices, default=Lead.ExecutionMode.TELEPHONY
    )


class LeadImportErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(help_text="Spreadsheet row number; the header is row 1.")
    field = serializers.CharField()
    reason = serializers.CharField()


class LeadImportSerializer(serializers.ModelSerializer[LeadImport]):
    template = serializers.CharField(source="template.slug", read_only=True)
    row_errors = serializers.SerializerMethodField(help_text="The first 100 row errors.")

    class Meta:
        model = LeadImport
        fields = [
            "id",
            "template",
            "execution_mode",
            "original_name",
            "status",
            "error",
            "total_rows",
            "processed_rows",
            "ok_rows",
            "failed_rows",
            "row_errors",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_row_errors(self, lead_import: LeadImport) -> Any:
        return LeadImportErrorSerializer(self.context.get("row_errors", []), many=True).data
