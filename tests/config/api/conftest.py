from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from config.models import Merchant
from config.services import api_key_create
from tests.conftest import Tenants


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def key_token(tenants: Tenants) -> Callable[..., str]:
    """The plaintext token of a fresh API key with `role` in `merchant` (Acme by default)."""

    def issue(role: str, merchant: Merchant | None = None) -> str:
        _, token = api_key_create(merchant=merchant or tenants.acme, role=role, name=f"{role} key")
        return token

    return issue


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
