"""How the API's authentication and errors appear in the OpenAPI schema (loaded by config.api.urls)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from config.auth.authentication import BEARER


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "config.auth.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix=BEARER, bearer_format="brz_ API key"
        )
        definition["description"] = (
            "A merchant API key, `Authorization: Bearer brz_…`, issued once by "
            "`POST /api/v1/api-keys` or the admin."
        )
        return definition


class JWTBearerScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
    target_class = "config.auth.authentication.JWTBearerAuthentication"


class FieldErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField(help_text="Dotted path: `phone`, `payload.order_id`, `leads.3`.")
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorDetailSerializer(serializers.Serializer[Any]):
    type = serializers.CharField(help_text="validation_error, not_found, conflict, throttled…")
    message = serializers.CharField()
    # The metaclass moves declared fields off the class, so this does not shadow `.fields`.
    fields = FieldErrorSerializer(  # type: ignore[assignment]
        many=True, required=False, help_text="Validation errors only."
    )


class ErrorSerializer(serializers.Serializer[Any]):
    """Every 4xx and 5xx answer; `fields` only for validation errors."""

    error = ErrorDetailSerializer()


def error_response(description: str) -> OpenApiResponse:
    """An error answer in the schema: without a body schema, drf-spectacular drops its examples."""
    return OpenApiResponse(response=ErrorSerializer, description=description)
