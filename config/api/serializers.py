from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers

from config.models import API_KEY_ROLES, ApiKey, Merchant


class ApiKeyInputSerializer(serializers.Serializer[Any]):
    merchant = serializers.SlugField(help_text="Slug of the merchant the key acts for.")
    role = serializers.ChoiceField(choices=API_KEY_ROLES)
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    merchant: serializers.SlugRelatedField[Merchant] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "merchant",
            "role",
            "name",
            "prefix",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    token = serializers.SerializerMethodField(
        help_text="The secret token; shown in this answer only, never again."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "token"]
        read_only_fields = fields

    def get_token(self, obj: ApiKey) -> str:
        token: str = self.context["token"]
        return token
