"""JSON the schema-driven fuzz never writes: raw text with lone surrogates, numbers past a
float, deep nesting, NUL, markup, placed inside otherwise valid bodies of every JSON write.

Schemathesis builds bodies from the OpenAPI schema through Python values, so it never sends
`"\\ud800"`, `1e400` or 900 levels of brackets; each of those made a lead push answer 500
before the API's JSON parser refused them. No answer here may be a server error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from config.models import Membership
from config.services import api_key_create
from tests.api.conftest import World, lead_body
from tests.conftest import Tenants

Role = Membership.Role
pytestmark = pytest.mark.django_db

# Raw JSON text: every leaf is written as it would arrive on the wire.
_LEAVES = st.one_of(
    st.sampled_from(
        ["1e400", "-1e999", "1.5e308", "0", "-0.0", "null", "true", "12345678901234567890"]
    ),
    st.text(st.characters(codec=None), max_size=12).map(json.dumps),
    st.sampled_from(['"\\ud800"', '"a\\udfffb"', '"\\ud83d\\ude80"', '"\\u0000"', '"<b>{x}</b>"']),
    st.integers(min_value=1, max_value=2000).map(lambda depth: "[" * depth + "]" * depth),
)
_RAW = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.dictionaries(st.text(max_size=8).map(json.dumps), inner, max_size=3).map(
            lambda pairs: "{" + ",".join(f"{k}:{v}" for k, v in pairs.items()) + "}"
        ),
    ),
    max_leaves=6,
)


def _with(body: dict[str, Any], key: str, raw: str) -> str:
    """`body` as JSON with the value at `key` (dotted) replaced by the raw text."""
    marker = "__FUZZ__"
    target: Any = body
    *parents, last = key.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = marker
    else:
        target[last] = marker
    return json.dumps(body).replace(f'"{marker}"', raw)


WRITES: dict[str, tuple[str, Any, list[str]]] = {
    "lead": (
        "/api/v1/leads",
        lambda: lead_body("acme"),
        ["payload.order_id", "phone", "template", "idempotency_key", "scheduled_at"],
    ),
    "bulk": (
        "/api/v1/leads/bulk",
        lambda: {"leads": [lead_body("acme")]},
        ["leads", "leads.0", "leads.0.payload.order_id", "leads.0.idempotency_key"],
    ),
    "validate": ("/api/v1/templates/validate", lambda: {"definition": {}}, ["definition"]),
    "api key": (
        "/api/v1/api-keys",
        lambda: {"merchant": "acme", "role": "viewer", "name": "k"},
        ["name", "expires_at"],
    ),
    "campaign": (
        "/api/v1/campaigns",
        lambda: {"name": "c", "template": "order-confirmation", "lead_filter": {}},
        ["name", "lead_filter"],
    ),
    "webhook": (
        "/api/v1/webhook-endpoints",
        lambda: {"url": "https://x.example.com/h"},
        ["url", "description"],
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@given(raw=_RAW, data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_json_never_makes_a_server_error(
    write: str, raw: str, data: st.DataObject, world: World, tenants: Tenants
) -> None:
    path, make_body, keys = WRITES[write]
    key = data.draw(st.sampled_from(keys))
    _, token = api_key_create(merchant=tenants.acme, role=Role.MERCHANT_ADMIN, name="fuzz")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.post(path, _with(make_body(), key, raw), content_type="application/json")

    assert response.status_code < 500, (path, key, raw[:200], response.content[:300])
