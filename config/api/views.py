from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.views import TokenRefreshView

from config.api.errors import NON_FIELD
from config.api.pagination import CursorListMixin
from config.api.permissions import ResourceView
from config.api.serializers import ApiKeyCreatedSerializer, ApiKeyInputSerializer, ApiKeySerializer
from config.auth.authentication import plain_authentication_failed
from config.exceptions import ApplicationError
from config.selectors import api_key_list, merchant_list
from config.services import api_key_create, api_key_revoke
from config.types import Action, Resource


class ApiKeyListApi(CursorListMixin, ResourceView):
    """Merchant admins' and platform admins' API keys; the secret is never listed."""

    resource = Resource.API_KEY

    @extend_schema(responses=ApiKeySerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginated_response(request, api_key_list(user=request.user), ApiKeySerializer)

    @extend_schema(request=ApiKeyInputSerializer, responses={201: ApiKeyCreatedSerializer})
    def post(self, request: Request) -> Response:
        serializer = ApiKeyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        merchant = merchant_list(user=request.user).filter(slug=data["merchant"]).first()
        if merchant is None:
            raise serializers.ValidationError({"merchant": [f"no merchant {data['merchant']!r}"]})
        self.check_merchant_action(request, merchant_id=merchant.pk)
        try:
            api_key, token = api_key_create(
                merchant=merchant,
                role=data["role"],
                name=data["name"],
                expires_at=data["expires_at"],
                created_by=request.user if isinstance(request.user, User) else None,
            )
        except ApplicationError as error:
            raise serializers.ValidationError(
                {error.field or NON_FIELD: [error.message]}
            ) from error
        body = ApiKeyCreatedSerializer(api_key, context={"token": token}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(ResourceView):
    resource = Resource.API_KEY

    @extend_schema(responses=ApiKeySerializer)
    def get(self, request: Request, api_key_id: int) -> Response:
        api_key = get_object_or_404(api_key_list(user=request.user), pk=api_key_id)
        return Response(ApiKeySerializer(api_key).data)


class ApiKeyRevokeApi(ResourceView):
    """Revoke a key: requests with it fail from now on. Revoking twice is harmless."""

    resource = Resource.API_KEY
    action = Action.CHANGE

    @extend_schema(request=None, responses=ApiKeySerializer)
    def post(self, request: Request, api_key_id: int) -> Response:
        api_key = get_object_or_404(api_key_list(user=request.user), pk=api_key_id)
        self.check_merchant_action(request, merchant_id=api_key.merchant_id)
        return Response(ApiKeySerializer(api_key_revoke(api_key=api_key)).data)


class TokenRefreshApi(TokenRefreshView):
    """A refresh token → a new access token and a new refresh token (the old one stops working)."""

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except JWTAuthenticationFailed as error:
            raise plain_authentication_failed(error) from error
