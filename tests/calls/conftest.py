from __future__ import annotations

import pytest

from calls.models import Call
from calls.services import call_create
from templates_app.models import Template, TemplateVersion
from templates_app.services import template_load_demos
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS

ORDER_PAYLOAD = DEMO_PAYLOADS["order-confirmation"]


@pytest.fixture
def published(tenants: Tenants) -> TemplateVersion:
    template_load_demos(merchant=tenants.acme)
    return Template.objects.get(merchant=tenants.acme, slug="order-confirmation").versions.get()


@pytest.fixture
def call(published: TemplateVersion) -> Call:
    return call_create(
        version=published,
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider="simulator",
        customer_phone="+15555550123",
        payload=ORDER_PAYLOAD,
    )
