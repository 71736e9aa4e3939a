"""How the API's authentication appears in the OpenAPI schema (loaded by config.apps)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

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
