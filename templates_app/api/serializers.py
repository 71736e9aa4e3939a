from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers

from config.models import Merchant
from templates_app.models import Template, TemplateVersion


class TemplateFilterSerializer(serializers.Serializer[Any]):
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)


class TemplateSerializer(serializers.ModelSerializer[Template]):
    merchant: serializers.SlugRelatedField[Merchant] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Template
        fields = ["id", "merchant", "slug", "name", "description", "is_active", "created_at"]
        read_only_fields = fields


class TemplateDetailSerializer(TemplateSerializer):
    published_version = serializers.IntegerField(
        source="published_number", allow_null=True, help_text="What new calls use."
    )
    draft_version = serializers.IntegerField(source="draft_number", allow_null=True)

    class Meta(TemplateSerializer.Meta):
        fields = [
            *TemplateSerializer.Meta.fields,
            "updated_at",
            "published_version",
            "draft_version",
        ]
        read_only_fields = fields


class TemplateVersionSerializer(serializers.ModelSerializer[TemplateVersion]):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = TemplateVersion
        fields = ["number", "status", "note", "created_by", "created_at", "published_at"]
        read_only_fields = fields


class TemplateVersionDetailSerializer(TemplateVersionSerializer):
    class Meta(TemplateVersionSerializer.Meta):
        fields = [*TemplateVersionSerializer.Meta.fields, "definition"]
        read_only_fields = fields


class TemplateValidateInputSerializer(serializers.Serializer[Any]):
    definition = serializers.JSONField()
    merchant = serializers.SlugField(
        required=False, help_text="Slug of the merchant whose secrets `{names}` may use."
    )


class TemplateIssueSerializer(serializers.Serializer[Any]):
    path = serializers.CharField(help_text="JSON path in the definition, like nodes.greet.")
    message = serializers.CharField()


class TemplateValidateOutputSerializer(serializers.Serializer[Any]):
    valid = serializers.BooleanField()
    # DRF's metaclass moves declared fields off the class, so Serializer.errors is untouched.
    errors = TemplateIssueSerializer(many=True)  # type: ignore[assignment]
    warnings = TemplateIssueSerializer(many=True)
