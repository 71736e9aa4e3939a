"""Shapes of the call read API; transcripts and latency, never media tokens or worker ids."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calls.models import Call, Turn
from calls.selectors import call_latency_summary
from config.models import Merchant


class CallFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Call.Status.choices, required=False)
    disposition = serializers.ChoiceField(choices=Call.Disposition.choices, required=False)
    outcome = serializers.CharField(required=False, max_length=64)
    template = serializers.CharField(required=False, help_text="A template's id or slug.")
    lead = serializers.IntegerField(required=False, source="lead_id")
    phone = serializers.CharField(required=False, max_length=20, help_text="E.164.")
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class CallSerializer(serializers.ModelSerializer[Call]):
    merchant: serializers.SlugRelatedField[Merchant] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    template = serializers.CharField(source="template_version.template.slug", read_only=True)
    template_version = serializers.IntegerField(source="template_version.number", read_only=True)
    lead = serializers.IntegerField(source="lead_id", read_only=True, allow_null=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "merchant",
            "template",
            "template_version",
            "lead",
            "execution_mode",
            "provider",
            "provider_call_id",
            "customer_phone",
            "status",
            "disposition",
            "outcome",
            "end_reason",
            "llm_fallback_at",
            "llm_fallback_reason",
            "created_at",
            "started_at",
            "answered_at",
            "ended_at",
            "duration_seconds",
        ]
        read_only_fields = fields


class TurnSerializer(serializers.ModelSerializer[Turn]):
    class Meta:
        model = Turn
        fields = [
            "index",
            "speaker",
            "text",
            "node",
            "function_called",
            "started_offset_ms",
            "ended_offset_ms",
            "latency_ms",
            "stt_ms",
            "llm_ms",
            "tts_ms",
        ]
        read_only_fields = fields


class LatencySerializer(serializers.Serializer[Any]):
    answers = serializers.IntegerField(help_text="Bot answers with a measured wait.")
    median_ms = serializers.IntegerField(allow_null=True)
    p95_ms = serializers.IntegerField(allow_null=True)
    max_ms = serializers.IntegerField(allow_null=True)
    stt_median_ms = serializers.IntegerField(allow_null=True)
    llm_median_ms = serializers.IntegerField(allow_null=True)
    tts_median_ms = serializers.IntegerField(allow_null=True)


class CallDetailSerializer(CallSerializer):
    turns = TurnSerializer(many=True, read_only=True, help_text="The transcript, in order.")
    latency = serializers.SerializerMethodField()

    class Meta(CallSerializer.Meta):
        fields = [
            *CallSerializer.Meta.fields,
            "payload",
            "outcome_fields",
            "node_path",
            "turns",
            "latency",
        ]
        read_only_fields = fields

    @extend_schema_field(LatencySerializer)
    def get_latency(self, call: Call) -> dict[str, Any]:
        summary = call_latency_summary(turns=list(call.turns.all()))
        return dict(LatencySerializer(summary).data)
