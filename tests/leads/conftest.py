from __future__ import annotations

import pytest

from templates_app.models import Template
from templates_app.services import template_load_demos
from tests.conftest import Tenants


@pytest.fixture
def order_template(tenants: Tenants) -> Template:
    """Acme's published order-confirmation demo: three required string variables."""
    template_load_demos(merchant=tenants.acme)
    return Template.objects.get(merchant=tenants.acme, slug="order-confirmation")
