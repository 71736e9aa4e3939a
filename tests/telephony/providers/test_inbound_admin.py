"""Inbound routes in the admin: written through the service, scoped to the user's merchants."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib.auth.models import User
from django.test import Client

from config.models import Membership
from telephony.inbound.models import InboundRoute
from templates_app.models import Template, TemplateVersion
from templates_app.services import template_load_demos
from tests.calls.conftest import ORDER_PAYLOAD
from tests.conftest import Tenants

ADD = "/admin/telephony/inboundroute/add/"


def _form(tenants: Tenants, template: Template, **changes: str) -> dict[str, str]:
    return {
        "merchant": str(tenants.acme.pk),
        "provider": "twilio",
        "number": "+15555550100",
        "template": str(template.pk),
        "variables": json.dumps(ORDER_PAYLOAD),
        "is_active": "on",
        **changes,
    }


def test_an_operator_routes_a_number_to_one_of_their_merchants_templates(
    tenants: Tenants,
    published: TemplateVersion,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    template_load_demos(merchant=tenants.globex)
    foreign = Template.objects.get(merchant=tenants.globex, slug="order-confirmation")
    client = login(member_of_acme(Membership.Role.OPERATOR))

    page = client.get(ADD)
    refused = client.post(ADD, _form(tenants, foreign))
    missing = client.post(ADD, _form(tenants, published.template, variables="{}"))
    saved = client.post(ADD, _form(tenants, published.template))

    assert page.status_code == 200
    assert f'value="{published.template.pk}"'.encode() in page.content
    assert f'value="{foreign.pk}"'.encode() not in page.content
    assert (refused.status_code, missing.status_code, saved.status_code) == (200, 200, 302)
    assert b"customer_name" in missing.content
    route = InboundRoute.objects.get()
    assert (route.merchant, route.number, route.template, route.variables) == (
        tenants.acme,
        "+15555550100",
        published.template,
        ORDER_PAYLOAD,
    )


def test_a_viewer_cannot_add_routes(
    tenants: Tenants,
    published: TemplateVersion,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(Membership.Role.VIEWER))

    assert client.post(ADD, _form(tenants, published.template)).status_code == 403
    assert InboundRoute.objects.count() == 0
