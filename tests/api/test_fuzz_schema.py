"""Schema-driven fuzzing: schemathesis sends what /api/schema/ allows, and worse, in process.

Every operation of the served OpenAPI schema is called through the WSGI application with
generated paths, queries and bodies (Unicode, huge numbers, missing and extra fields) as a
merchant admin; no answer may be a server error. Examples per operation are capped so the
whole run stays well under a minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case

from config.models import Membership
from config.services import api_key_create
from tests.api.conftest import World
from tests.conftest import Tenants

Role = Membership.Role

# The same document /api/schema/ serves (tests/config/api/test_schema_docs.py fetches that).
schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
)


@pytest.fixture
def app(world: World) -> Iterator[WSGIHandler]:
    # Django's WSGI handler closes the database connection after each request; the test's
    # transaction lives on that connection, so keep it open as Django's own test client does.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.fixture
def admin_headers(tenants: Tenants) -> dict[str, str]:
    _, token = api_key_create(merchant=tenants.acme, role=Role.MERCHANT_ADMIN, name="fuzz")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(
    case: Case[Any], app: WSGIHandler, admin_headers: dict[str, str]
) -> None:
    response = case.call(app=app, headers=admin_headers)

    case.validate_response(response, checks=[not_a_server_error])
