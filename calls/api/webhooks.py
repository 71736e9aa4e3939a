"""Webhook endpoints and deliveries over the API; views only translate to services."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from calls.api.webhook_serializers import (
    WebhookDeliveryDetailSerializer,
    WebhookDeliveryFilterSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookSecretSerializer,
)
from calls.webhooks.selectors import webhook_delivery_list, webhook_endpoint_list
from calls.webhooks.services import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from config.api.pagination import CursorListMixin
from config.api.permissions import ResourceView
from config.models import Merchant
from config.selectors import merchant_ids_allowing
from config.types import Action, Resource

_CREATED_EXAMPLE = OpenApiExample(
    "created",
    value={
        "id": 3,
        "merchant": "acme",
        "url": "https://shop.example/hooks/breeze",
        "description": "order system",
        "event_types": ["call.completed", "lead.completed"],
        "is_active": True,
        "is_default": True,
        "previous_secret_expires_at": None,
        "consecutive_failures": 0,
        "circuit_open_until": None,
        "circuit_open": False,
        "created_at": "2026-11-25T10:00:00Z",
        "updated_at": "2026-11-25T10:00:00Z",
        "secret": "whsec_3q2+7w…",
    },
    response_only=True,
    status_codes=["201"],
)


def _merchant_for_create(request: Request, slug: str | None) -> Merchant:
    """The merchant named, or the only one where the caller may add endpoints."""
    allowed = merchant_ids_allowing(user=request.user, resource=Resource.WEBHOOK, action=Action.ADD)
    merchants = (
        Merchant.objects.all() if allowed is None else Merchant.objects.filter(pk__in=allowed)
    )
    if slug:
        merchant = merchants.filter(slug=slug).first()
        if merchant is None:
            raise serializers.ValidationError({"merchant": [f"no merchant {slug!r}"]})
        return merchant
    if allowed is None or len(allowed) != 1:
        raise serializers.ValidationError({"merchant": ["Name the merchant (its slug)."]})
    return merchants.get()


class WebhookEndpointListApi(CursorListMixin, ResourceView):
    resource = Resource.WEBHOOK

    @extend_schema(responses=WebhookEndpointSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginated_response(
            request, webhook_endpoint_list(user=request.user), WebhookEndpointSerializer
        )

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
        examples=[
            OpenApiExample(
                "subscribe to call and lead results",
                value={
                    "url": "https://shop.example/hooks/breeze",
                    "description": "order system",
                    "event_types": ["call.completed", "lead.completed"],
                },
                request_only=True,
            ),
            _CREATED_EXAMPLE,
        ],
    )
    def post(self, request: Request) -> Response:
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(data.validated_data)
        merchant = _merchant_for_create(request, fields.pop("merchant", None))
        endpoint, secret = webhook_endpoint_create(merchant_id=merchant.pk, **fields)
        body = WebhookEndpointCreatedSerializer(endpoint, context={"secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(ResourceView):
    resource = Resource.WEBHOOK

    @extend_schema(responses=WebhookEndpointSerializer)
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(webhook_endpoint_list(user=request.user), pk=endpoint_id)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        request=WebhookEndpointUpdateSerializer,
        responses=WebhookEndpointSerializer,
        examples=[
            OpenApiExample("pause an endpoint", value={"is_active": False}, request_only=True)
        ],
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(webhook_endpoint_list(user=request.user), pk=endpoint_id)
        self.check_merchant_action(request, merchant_id=endpoint.merchant_id)
        data = WebhookEndpointUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook_endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(webhook_endpoint_list(user=request.user), pk=endpoint_id)
        self.check_merchant_action(request, merchant_id=endpoint.merchant_id)
        webhook_endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretApi(ResourceView):
    """A new secret; the old one keeps signing too for the overlap period (24 h by default)."""

    resource = Resource.WEBHOOK
    action = Action.CHANGE

    @extend_schema(
        request=None,
        responses=WebhookSecretSerializer,
        examples=[
            OpenApiExample(
                "rotated",
                value={
                    "secret": "whsec_9Xk…",
                    "previous_secret_expires_at": "2026-11-26T10:00:00Z",
                },
                response_only=True,
            )
        ],
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(webhook_endpoint_list(user=request.user), pk=endpoint_id)
        self.check_merchant_action(request, merchant_id=endpoint.merchant_id)
        secret = webhook_endpoint_rotate_secret(endpoint=endpoint)
        body = {"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at}
        return Response(WebhookSecretSerializer(body).data)


class WebhookDeliveryListApi(CursorListMixin, ResourceView):
    resource = Resource.WEBHOOK

    @extend_schema(
        parameters=[WebhookDeliveryFilterSerializer],
        responses=WebhookDeliverySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = WebhookDeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        chosen: dict[str, Any] = filters.validated_data
        deliveries = webhook_delivery_list(
            user=request.user,
            status=chosen.get("status", ""),
            event_type=chosen.get("event_type", ""),
            event_id=chosen.get("event_id", ""),
            endpoint_id=chosen.get("endpoint"),
        )
        return self.paginated_response(request, deliveries, WebhookDeliverySerializer)


class WebhookDeliveryDetailApi(ResourceView):
    resource = Resource.WEBHOOK

    @extend_schema(responses=WebhookDeliveryDetailSerializer)
    def get(self, request: Request, delivery_id: int) -> Response:
        delivery = get_object_or_404(
            webhook_delivery_list(user=request.user).prefetch_related("attempts_log"),
            pk=delivery_id,
        )
        return Response(WebhookDeliveryDetailSerializer(delivery).data)


class WebhookDeliveryReplayApi(ResourceView):
    """Deliver the same event again: a new delivery with the same event id."""

    resource = Resource.WEBHOOK
    action = Action.CHANGE

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    def post(self, request: Request, delivery_id: int) -> Response:
        delivery = get_object_or_404(webhook_delivery_list(user=request.user), pk=delivery_id)
        self.check_merchant_action(request, merchant_id=delivery.merchant_id)
        [replay] = webhook_delivery_replay(deliveries=[delivery])
        replay.merchant = delivery.merchant
        replay.endpoint = delivery.endpoint
        return Response(WebhookDeliverySerializer(replay).data, status=status.HTTP_202_ACCEPTED)
