from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from config.models import Membership, Merchant
from templates_app.demo import demo_definition
from templates_app.models import Template
from templates_app.services import (
    template_create,
    template_load_demos,
    template_version_publish,
)
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS

Role = Membership.Role


@pytest.fixture
def order_template(tenants: Tenants) -> Template:
    """Acme's published order-confirmation demo: three required string variables."""
    template_load_demos(merchant=tenants.acme)
    return Template.objects.get(merchant=tenants.acme, slug="order-confirmation")


@pytest.fixture(autouse=True)
def media_root(settings: LazySettings, tmp_path: Path) -> Path:
    """Uploaded CSVs go to a folder of this test's own."""
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    return media


@pytest.fixture
def api(member_of_acme: Callable[[str], User]) -> Callable[[str], APIClient]:
    """An API client authenticated as a user holding `role` in Acme."""

    clients: dict[str, APIClient] = {}

    def make(role: str) -> APIClient:
        if role not in clients:
            clients[role] = APIClient()
            clients[role].force_authenticate(user=member_of_acme(role))
        return clients[role]

    return make


@pytest.fixture
def operator_api(api: Callable[[str], APIClient], order_template: Template) -> APIClient:
    return api(Role.OPERATOR)


def push_body(**changes: Any) -> dict[str, Any]:
    """A valid push for Acme's order-confirmation template, with `changes` applied."""
    body: dict[str, Any] = {
        "template": "order-confirmation",
        "phone": "+919812345678",
        "payload": dict(DEMO_PAYLOADS["order-confirmation"]),
    }
    body.update(changes)
    return body


def error_fields(response: Any) -> list[tuple[str, str]]:
    return [(item["field"], item["code"]) for item in response.json()["error"]["fields"]]


@pytest.fixture
def make_template(tenants: Tenants) -> Callable[..., Template]:
    """An Acme template from the order-confirmation demo with `changes` to its definition."""

    def make(
        slug: str, *, publish: bool = True, merchant: Merchant | None = None, **changes: Any
    ) -> Template:
        definition = {**copy.deepcopy(demo_definition("order-confirmation")), **changes}
        template = template_create(
            merchant=merchant or tenants.acme, slug=slug, name=slug, definition=definition
        )
        if publish:
            template_version_publish(version=template.versions.get())
        return template

    return make
