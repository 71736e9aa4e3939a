"""Every endpoint, every role, own or other merchant, and every way a credential is refused.

- A row of another merchant is 404, never 403, and never changes.
- A role the matrix (config/permissions.py) does not allow the action gets 403: viewers
  never mutate, operators never touch API keys.
- A list never shows another merchant's rows; a write naming another merchant writes nothing.
- Revoked, expired, forged and malformed credentials are 401 in the error format.

Not here: `GET /api/v1/dashboard` (tests/breeze/test_dashboard.py) and
`POST /api/v1/daily/connect`, which needs a Daily credential and a fake Daily
(tests/telephony/providers/daily/test_connect_*.py); the auth endpoints take no Bearer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from calls.models import Call
from calls.webhooks.models import WebhookDelivery, WebhookEndpoint
from config.models import ApiKey
from config.permissions import role_allows
from config.types import Action, Resource
from leads.models import Campaign, Lead, LeadImport
from tests.api.conftest import World, lead_body, multipart_import

pytestmark = pytest.mark.django_db

Body = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # `{id}` is the id of the merchant's row of kind `row`
    resource: Resource
    action: Action
    row: str | None = None
    body: Body | None = field(default=None, compare=False)
    multipart: bool = False
    # Succeeds once per row (DELETE): later callers allowed to do it find the row gone.
    once: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def call(self, client: APIClient, world: World, merchant: str) -> Any:
        path = self.path.format(id=world.rows[merchant][self.row]) if self.row else self.path
        data = self.body(merchant) if self.body else None
        fmt = "multipart" if self.multipart else "json"
        return getattr(client, self.method.lower())(path, data, format=fmt)


def _key_body(merchant: str) -> dict[str, Any]:
    return {"merchant": merchant, "role": "viewer", "name": "new"}


OBJECT_ENDPOINTS = [
    Endpoint("GET", "/api/v1/api-keys/{id}", Resource.API_KEY, Action.VIEW, "api_key"),
    Endpoint("POST", "/api/v1/api-keys/{id}/revoke", Resource.API_KEY, Action.CHANGE, "api_key"),
    Endpoint("GET", "/api/v1/templates/{id}", Resource.TEMPLATE, Action.VIEW, "template"),
    Endpoint("GET", "/api/v1/templates/{id}/versions", Resource.TEMPLATE, Action.VIEW, "template"),
    Endpoint(
        "GET", "/api/v1/templates/{id}/versions/1", Resource.TEMPLATE, Action.VIEW, "template"
    ),
    Endpoint("GET", "/api/v1/calls/{id}", Resource.CALL, Action.VIEW, "call"),
    Endpoint("GET", "/api/v1/calls/{id}/recording", Resource.CALL, Action.VIEW, "call"),
    Endpoint("GET", "/api/v1/leads/{id}", Resource.LEAD, Action.VIEW, "lead"),
    Endpoint("POST", "/api/v1/leads/{id}/cancel", Resource.LEAD, Action.CHANGE, "lead"),
    Endpoint("POST", "/api/v1/leads/{id}/dispatch-now", Resource.LEAD, Action.CHANGE, "lead"),
    Endpoint("GET", "/api/v1/lead-imports/{id}", Resource.LEAD, Action.VIEW, "lead_import"),
    Endpoint("GET", "/api/v1/campaigns/{id}", Resource.CAMPAIGN, Action.VIEW, "campaign"),
    *(
        Endpoint(
            "POST", f"/api/v1/campaigns/{{id}}/{verb}", Resource.CAMPAIGN, Action.CHANGE, "campaign"
        )
        for verb in ("start", "pause", "resume", "stop")
    ),
    Endpoint(
        "GET", "/api/v1/webhook-endpoints/{id}", Resource.WEBHOOK, Action.VIEW, "webhook_endpoint"
    ),
    Endpoint(
        "PATCH",
        "/api/v1/webhook-endpoints/{id}",
        Resource.WEBHOOK,
        Action.CHANGE,
        "webhook_endpoint",
        body=lambda merchant: {"description": "changed"},
    ),
    Endpoint(
        "POST",
        "/api/v1/webhook-endpoints/{id}/rotate-secret",
        Resource.WEBHOOK,
        Action.CHANGE,
        "webhook_endpoint",
    ),
    Endpoint(
        "DELETE",
        "/api/v1/webhook-endpoints/{id}",
        Resource.WEBHOOK,
        Action.DELETE,
        "webhook_endpoint",
        once=True,
    ),
    Endpoint(
        "GET", "/api/v1/webhook-deliveries/{id}", Resource.WEBHOOK, Action.VIEW, "webhook_delivery"
    ),
    Endpoint(
        "POST",
        "/api/v1/webhook-deliveries/{id}/replay",
        Resource.WEBHOOK,
        Action.CHANGE,
        "webhook_delivery",
    ),
]
LIST_ENDPOINTS = [
    Endpoint("GET", "/api/v1/api-keys", Resource.API_KEY, Action.VIEW, "api_key"),
    Endpoint("GET", "/api/v1/templates", Resource.TEMPLATE, Action.VIEW, "template"),
    Endpoint("GET", "/api/v1/calls", Resource.CALL, Action.VIEW, "call"),
    Endpoint("GET", "/api/v1/leads", Resource.LEAD, Action.VIEW, "lead"),
    Endpoint("GET", "/api/v1/campaigns", Resource.CAMPAIGN, Action.VIEW, "campaign"),
    Endpoint("GET", "/api/v1/webhook-endpoints", Resource.WEBHOOK, Action.VIEW, "webhook_endpoint"),
    Endpoint(
        "GET", "/api/v1/webhook-deliveries", Resource.WEBHOOK, Action.VIEW, "webhook_delivery"
    ),
]
WRITE_ENDPOINTS = [
    Endpoint("POST", "/api/v1/api-keys", Resource.API_KEY, Action.ADD, body=_key_body),
    # Writes nothing, but reads the named merchant's secret names: it must stay in the caller's.
    Endpoint(
        "POST",
        "/api/v1/templates/validate",
        Resource.TEMPLATE,
        Action.VIEW,
        body=lambda merchant: {"definition": {}, "merchant": merchant},
    ),
    Endpoint("POST", "/api/v1/leads", Resource.LEAD, Action.ADD, body=lead_body),
    Endpoint(
        "POST",
        "/api/v1/leads/bulk",
        Resource.LEAD,
        Action.ADD,
        body=lambda merchant: {"leads": [lead_body(merchant)]},
    ),
    Endpoint(
        "POST",
        "/api/v1/leads/import",
        Resource.LEAD,
        Action.ADD,
        body=multipart_import,
        multipart=True,
    ),
    Endpoint(
        "POST",
        "/api/v1/campaigns",
        Resource.CAMPAIGN,
        Action.ADD,
        body=lambda merchant: {
            "name": "new",
            "template": "order-confirmation",
            "merchant": merchant,
            "lead_filter": {},
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/webhook-endpoints",
        Resource.WEBHOOK,
        Action.ADD,
        body=lambda merchant: {"url": "https://new.example.com/hooks", "merchant": merchant},
    ),
]
ALL_ENDPOINTS = OBJECT_ENDPOINTS + LIST_ENDPOINTS + WRITE_ENDPOINTS


def _role(caller: str) -> str:
    return caller.split(maxsplit=1)[0]


def _globex_state() -> list[Any]:
    """Everything a write could change in the other merchant."""
    return [
        list(ApiKey.objects.filter(merchant__slug="globex").values_list("pk", "revoked_at")),
        list(Lead.objects.filter(merchant__slug="globex").values_list("pk", "status")),
        list(LeadImport.objects.filter(merchant__slug="globex").values_list("pk")),
        list(Call.objects.filter(merchant__slug="globex").values_list("pk", "status")),
        list(Campaign.objects.filter(merchant__slug="globex").values_list("pk", "status")),
        list(
            WebhookEndpoint.objects.filter(merchant__slug="globex").values_list(
                "pk", "description", "secret_ciphertext"
            )
        ),
        list(WebhookDelivery.objects.filter(merchant__slug="globex").values_list("pk")),
    ]


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=str)
def test_object_endpoints(endpoint: Endpoint, world: World, callers: dict[str, APIClient]) -> None:
    before = _globex_state()
    done = False
    for caller, client in callers.items():
        allowed = role_allows(_role(caller), endpoint.resource, endpoint.action)
        platform = _role(caller) == "platform_admin"

        other = endpoint.call(client, world, "globex")
        own = endpoint.call(client, world, "acme")

        # A caller whose role may never do this is told so (nothing about the row); any other
        # caller finds no row of another merchant.
        if platform:
            assert other.status_code < 400 or other.status_code == 409, (caller, other.json())
        else:
            assert other.status_code == (404 if allowed else 403), caller
            assert other.json()["error"]["type"] == (
                "not_found" if allowed else "permission_denied"
            )
        if allowed and endpoint.once and done:
            assert own.status_code == 404, caller
        elif allowed:
            assert own.status_code < 400 or own.status_code == 409, (caller, own.content)
            done = True
        else:
            assert own.status_code == 403, caller
        if not platform:
            assert _globex_state() == before, caller


@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS, ids=str)
def test_lists_never_show_another_merchant(
    endpoint: Endpoint, world: World, callers: dict[str, APIClient]
) -> None:
    theirs = world.rows["globex"][endpoint.row]  # type: ignore[index]
    ours = world.rows["acme"][endpoint.row]  # type: ignore[index]
    for caller, client in callers.items():
        response = endpoint.call(client, world, "acme")
        if not role_allows(_role(caller), endpoint.resource, endpoint.action):
            assert response.status_code == 403, caller
            continue
        assert response.status_code == 200, caller
        ids = {row["id"] for row in response.json()["results"]}
        assert ours in ids, caller
        assert (theirs in ids) == (_role(caller) == "platform_admin"), caller


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS, ids=str)
def test_writes_stay_in_the_callers_merchant(
    endpoint: Endpoint, world: World, callers: dict[str, APIClient]
) -> None:
    before = _globex_state()
    for caller, client in callers.items():
        if _role(caller) == "platform_admin":
            continue
        allowed = role_allows(_role(caller), endpoint.resource, endpoint.action)

        other = endpoint.call(client, world, "globex")
        own = endpoint.call(client, world, "acme")

        assert other.status_code in ((400, 404) if allowed else (403,)), (caller, other.json())
        assert _globex_state() == before, caller
        if allowed:
            assert own.status_code in (200, 201, 202), (caller, own.json())
        else:
            assert own.status_code == 403, caller
            assert own.json()["error"]["type"] == "permission_denied"


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=str)
def test_refused_credentials_are_401(
    endpoint: Endpoint, world: World, refused_credentials: dict[str, str]
) -> None:
    before = _globex_state()
    for problem, header in {**refused_credentials, "none": ""}.items():
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)

        response = endpoint.call(client, world, "acme")

        assert response.status_code == 401, problem
        expected = (
            "not_authenticated" if problem in ("none", "no scheme") else "authentication_failed"
        )
        assert response.json()["error"]["type"] == expected, problem
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"', problem
    assert _globex_state() == before
