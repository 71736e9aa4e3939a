"""Shapes of the campaign API: nested input serializers check types and ranges by field."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.campaigns.selectors import campaign_progress
from leads.campaigns.services import WAITING
from leads.models import Campaign


class LeadFilterInputSerializer(serializers.Serializer[Any]):
    status = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WAITING)),
        required=False,
        allow_empty=False,
        help_text="Which waiting leads: queued, scheduled (default both).",
    )
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class CampaignInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    template = serializers.CharField(help_text="The template's slug or id.")
    merchant = serializers.SlugField(
        required=False, help_text="Merchant slug; needed only if the slug exists in several."
    )
    lead_import = serializers.IntegerField(
        required=False, min_value=1, help_text="Take the leads of this CSV import."
    )
    lead_filter = LeadFilterInputSerializer(
        required=False, help_text="Or take the template's waiting leads matching this filter."
    )
    calls_per_minute = serializers.IntegerField(default=30, min_value=1, max_value=6000)
    max_concurrency = serializers.IntegerField(default=5, min_value=1, max_value=1000)
    failure_threshold = serializers.FloatField(
        default=0.5,
        min_value=0.01,
        max_value=1.0,
        help_text="Pause when this share of the last `failure_window` attempts failed.",
    )
    failure_window = serializers.IntegerField(default=10, min_value=1, max_value=1000)


class CampaignPauseInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, max_length=300, allow_blank=True)


class CampaignListFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Campaign.Status.choices, required=False)


class ProgressSerializer(serializers.Serializer[Any]):
    leads = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    dialled = serializers.IntegerField(help_text="Calls placed for its leads (every attempt).")
    answered = serializers.IntegerField()
    in_flight = serializers.IntegerField(help_text="Leads dialing or in a call.")
    remaining = serializers.IntegerField(help_text="Leads queued or released, not yet dialled.")
    outcomes = serializers.DictField(child=serializers.IntegerField())


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    merchant = serializers.CharField(source="merchant.slug", read_only=True)
    template = serializers.CharField(source="template.slug", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "merchant",
            "template",
            "name",
            "lead_import",
            "lead_filter",
            "status",
            "pause_reason",
            "calls_per_minute",
            "max_concurrency",
            "failure_threshold",
            "failure_window",
            "created_by",
            "created_at",
            "started_at",
            "paused_at",
            "resumed_at",
            "stopped_at",
            "completed_at",
        ]
        read_only_fields = fields


class CampaignDetailSerializer(CampaignSerializer):
    progress = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "progress"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, campaign: Campaign) -> Any:
        return ProgressSerializer(campaign_progress(campaign_id=campaign.pk)).data
