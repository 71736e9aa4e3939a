"""GET /api/v1/dashboard: the dashboards' numbers as JSON, for the admin's charts.

The one place that reads both calls and leads (campaign funnels), like breeze/metrics.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from calls.dashboard.selectors import DashboardScope, call_dashboard
from config.api.permissions import ResourceView
from config.ids import parse_id
from config.selectors import merchant_list
from config.types import Resource
from leads.funnels import campaign_funnels

DEFAULT_DAYS = 7
MAX_DAYS = 93
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2999, 12, 31)


class DashboardFilterSerializer(serializers.Serializer[Any]):
    """`from` and `to` are UTC dates, both included; `merchant` narrows to one merchant."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
            "merchant": serializers.CharField(required=False, max_length=20),
        }

    def validate_merchant(self, value: str) -> int:
        merchant_id = parse_id(value)
        if merchant_id is None:
            raise serializers.ValidationError("Not a merchant id.")
        return merchant_id

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("from", "to"):
            day = attrs.get(name)
            if day is not None and not EARLIEST <= day <= LATEST:
                raise serializers.ValidationError(
                    {name: f"Must be between {EARLIEST} and {LATEST}."}
                )
        today = dt.datetime.now(dt.UTC).date()
        last: dt.date = attrs.get("to") or max(attrs.get("from") or today, today)
        first: dt.date = attrs.get("from") or last - dt.timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise serializers.ValidationError({"to": "Must not be before `from`."})
        if (last - first).days >= MAX_DAYS:
            raise serializers.ValidationError(
                {"to": f"The range may span at most {MAX_DAYS} days."}
            )
        return {"from": first, "to": last, "merchant": attrs.get("merchant")}


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


class DashboardApi(ResourceView):
    resource = Resource.CALL

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (UTC), included."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (UTC), included."),
            OpenApiParameter("merchant", OpenApiTypes.INT, description="One merchant's id."),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        """Calls per hour, answer rate, outcomes, latency p50/p95, webhooks, campaign funnels."""
        filters = DashboardFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        first, last = filters.validated_data["from"], filters.validated_data["to"]
        merchant_id: int | None = filters.validated_data["merchant"]
        if (
            merchant_id is not None
            and not merchant_list(user=request.user).filter(pk=merchant_id).exists()
        ):
            raise serializers.ValidationError({"merchant": "No such merchant."})
        scope = DashboardScope(
            user=request.user,
            start=_midnight(first),
            end=_midnight(last + dt.timedelta(days=1)),
            merchant_id=merchant_id,
        )
        numbers = call_dashboard(scope)
        funnels = campaign_funnels(
            user=request.user, start=scope.start, end=scope.end, merchant_id=merchant_id
        )
        return Response(
            {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "merchant": merchant_id,
                **dataclasses.asdict(numbers),
                "campaign_funnels": [dataclasses.asdict(funnel) for funnel in funnels],
            }
        )
