from __future__ import annotations

from typing import Any

from rest_framework import serializers

from calls.webhooks.events import EventType
from calls.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

_EVENT_TYPES = [event_type.value for event_type in EventType]


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    merchant = serializers.CharField(source="merchant.slug", read_only=True)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=_EVENT_TYPES))
    circuit_open = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "merchant",
            "url",
            "description",
            "event_types",
            "is_active",
            "is_default",
            "previous_secret_expires_at",
            "consecutive_failures",
            "circuit_open_until",
            "circuit_open",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_circuit_open(self, obj: WebhookEndpoint) -> bool:
        return obj.circuit_open_until is not None


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.SerializerMethodField(
        help_text="The signing secret; shown in this answer only, never again."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, obj: WebhookEndpoint) -> str:
        secret: str = self.context["secret"]
        return secret


class WebhookEndpointInputSerializer(serializers.Serializer[Any]):
    merchant = serializers.SlugField(
        required=False, help_text="The merchant's slug; needed only if you act for several."
    )
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=_EVENT_TYPES),
        required=False,
        default=list,
        help_text="Empty: every event type.",
    )
    is_active = serializers.BooleanField(required=False, default=True)
    is_default = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Its secret signs deliveries to leads' own webhook URLs; "
        "a merchant's first endpoint is the default unless this says otherwise.",
    )


class WebhookEndpointUpdateSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=2000, required=False)
    description = serializers.CharField(max_length=200, required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=_EVENT_TYPES), required=False
    )
    is_active = serializers.BooleanField(required=False)
    is_default = serializers.BooleanField(required=False)


class WebhookSecretSerializer(serializers.Serializer[Any]):
    secret = serializers.CharField(help_text="The new secret; shown in this answer only.")
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then requests also carry the old secret's signature."
    )


class WebhookAttemptSerializer(serializers.ModelSerializer[WebhookAttempt]):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "url",
            "started_at",
            "duration_ms",
            "status_code",
            "response_body",
            "error",
        ]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    merchant = serializers.CharField(source="merchant.slug", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "merchant",
            "endpoint",
            "url",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "delivered_at",
            "replay_of",
            "created_at",
        ]
        read_only_fields = fields

    def get_url(self, obj: WebhookDelivery) -> str:
        return obj.endpoint.url if obj.endpoint is not None else obj.target_url


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    attempts_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "payload", "attempts_log"]
        read_only_fields = fields


class WebhookDeliveryFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
    event_type = serializers.ChoiceField(choices=_EVENT_TYPES, required=False)
    event_id = serializers.CharField(max_length=36, required=False)
    endpoint = serializers.IntegerField(required=False, min_value=1)
