"""DRF authentication for `Authorization: Bearer …`: API keys (`brz_…`) and people's JWTs."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed

from config.auth.principal import ApiKeyPrincipal
from config.auth.tokens import TOKEN_START
from config.logs import context as log_context
from config.models import ApiKey
from config.selectors import api_key_get_by_token, api_key_refusal
from config.services import api_key_record_use

BEARER = "Bearer"


def plain_authentication_failed(error: JWTAuthenticationFailed) -> exceptions.AuthenticationFailed:
    """Simplejwt's errors carry a dict detail; the API's error format wants one message."""
    detail: Any = error.detail
    message = detail.get("detail") if isinstance(detail, dict) else detail
    return exceptions.AuthenticationFailed(str(message), code="token_not_valid")


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer brz_…`: a merchant back-end acting with its key's role."""

    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].decode("latin-1") != BEARER:
            return None
        token = parts[1].decode("latin-1")
        if not token.startswith(TOKEN_START):
            return None
        api_key = api_key_get_by_token(token=token)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        now = timezone.now()
        refusal = api_key_refusal(api_key=api_key, now=now)
        if refusal is not None:
            raise exceptions.AuthenticationFailed(refusal)
        api_key_record_use(api_key=api_key, now=now)
        # A key acts for one merchant; its request's log lines (and tasks) say which.
        log_context.bind(merchant_id=api_key.merchant_id)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return f'{BEARER} realm="api"'


class JWTBearerAuthentication(JWTAuthentication):
    """`Authorization: Bearer <JWT access token>` for people, errors in the API's format."""

    def authenticate(self, request: Request) -> Any:
        try:
            return super().authenticate(request)
        except JWTAuthenticationFailed as error:
            raise plain_authentication_failed(error) from error
