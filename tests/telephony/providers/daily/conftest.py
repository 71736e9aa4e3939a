from __future__ import annotations

import pytest
from django.conf import LazySettings
from pytest_httpserver import HTTPServer

from config.services import provider_credential_create
from tests.conftest import Tenants

# Acme's members (`api(role)`) and its published order-confirmation demo, as the leads tests
# make them.
from tests.leads.conftest import api, order_template  # noqa: F401
from tests.telephony.providers.daily.fake_daily import API_KEY, FakeDaily


@pytest.fixture
def daily_api(httpserver: HTTPServer, settings: LazySettings) -> FakeDaily:
    settings.DAILY_API_BASE_URL = httpserver.url_for("/")
    fake = FakeDaily(httpserver)
    fake.install()
    return fake


@pytest.fixture
def acme_daily(tenants: Tenants) -> None:
    """Acme holds a Daily credential with a pool of two rooms."""
    provider_credential_create(
        merchant=tenants.acme,
        provider="daily",
        secrets={"api_key": API_KEY, "room_pool_size": "2"},
    )
