"""A real stack for end-to-end calls: Daphne and the voice pool as separate processes."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings

from calls.models import Call
from calls.services import call_create
from calls.voice import pool
from config.models import Merchant
from config.services import provider_credential_create
from leads.models import Lead
from leads.tasks import dispatch_due_leads
from telephony.providers.simulator.client import SimulatorResult
from telephony.providers.simulator.dialer import simulator_dial
from telephony.providers.simulator.persona import Persona
from telephony.tokens import media_token_issue
from templates_app.models import Template, TemplateVersion
from templates_app.services import template_create, template_version_publish
from tests.calls.conftest import call, published  # noqa: F401 - shared fixtures
from tests.conftest import free_port
from tests.demo_payloads import DEMO_PAYLOADS
from tests.processes import BIN, running, subprocess_env, wait_for

POOL_SIZE = 2


@dataclass(frozen=True)
class Stack:
    base_url: str
    logs: Path


def healthy(url: str) -> bool | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return True if response.status == 200 else None
    except OSError:
        return None


def idle_workers() -> int:
    return pool.pool_idle_count(redis.Redis.from_url(settings.REDIS_URL))


def ended_call(call_id: int) -> Call | None:
    row = Call.objects.get(pk=call_id)
    return row if row.status == Call.Status.ENDED else None


def published_template(
    merchant: Merchant, slug: str, definition: dict[str, Any]
) -> TemplateVersion:
    """A one-off template for a test, created and published through the services."""
    template = template_create(merchant=merchant, slug=slug, name=slug, definition=definition)
    return template_version_publish(version=template.versions.get())


def push_order_lead(
    api: Any,
    merchant: Merchant,
    *,
    provider: str,
    secrets: dict[str, str],
    phone: str,
    definition: dict[str, Any],
) -> Lead:
    """Give `merchant` credentials for `provider` and the order template dialling through it
    (slug `orders-<provider>`), push a lead for `phone` through the API as `api`'s user, and
    dispatch it. A second lead for the same provider reuses what the first set up.
    """
    if not Template.objects.filter(merchant=merchant, slug=f"orders-{provider}").exists():
        provider_credential_create(merchant=merchant, provider=provider, secrets=secrets)
        published_template(merchant, f"orders-{provider}", definition)
    pushed = api.post(
        "/api/v1/leads",
        {
            "template": f"orders-{provider}",
            "phone": phone,
            "payload": DEMO_PAYLOADS["order-confirmation"],
        },
        format="json",
    )
    assert pushed.status_code == 201, pushed.content
    dispatch_due_leads()
    return Lead.objects.get(pk=pushed.json()["id"])


def new_call(
    version: TemplateVersion, *, provider: str = "simulator", payload: dict[str, Any] | None = None
) -> Call:
    return call_create(
        version=version,
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider=provider,
        customer_phone="+15555550123",
        payload=payload or {},
    )


async def place(stack: Stack, row: Call, persona: Persona) -> tuple[Call, SimulatorResult]:
    """Dial the call with the simulated customer over its provider's protocol; wait for its end."""
    token = await sync_to_async(media_token_issue)(call=row)
    result = await simulator_dial(call=row, token=token, persona=persona, base_url=stack.base_url)
    finished = await sync_to_async(wait_for)(
        lambda: ended_call(row.pk), timeout=20, what=f"call {row.pk} to end"
    )
    return finished, result


@contextmanager
def stack_running(tmp_path: Path, *, port: int, **env: str) -> Iterator[Stack]:
    """Daphne on `port` and a warm voice pool, with `env` added to their environment."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{pool.PREFIX}*"):
        client.delete(key)
    # The live-call feed goes from a worker to Daphne through the Redis channel layer.
    environment = subprocess_env(TEST_REDIS_CHANNEL_LAYER="1", **env)
    web = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "breeze.asgi:application"]
    voice = [str(BIN / "python"), "manage.py", "run_voice_pool", "--size", str(POOL_SIZE)]
    with (
        running(web, env=environment, log=tmp_path / "web.log"),
        running(voice, env=environment, log=tmp_path / "voice.log"),
    ):
        wait_for(
            lambda: healthy(f"http://127.0.0.1:{port}/healthz"),
            timeout=30,
            what="daphne",
            log=tmp_path / "web.log",
        )
        wait_for(
            lambda: True if idle_workers() >= POOL_SIZE else None,
            timeout=90,
            what="the voice pool to warm up",
            log=tmp_path / "voice.log",
        )
        yield Stack(base_url=f"http://127.0.0.1:{port}", logs=tmp_path)


@pytest.fixture
def stack(transactional_db: None, tmp_path: Path) -> Iterator[Stack]:
    with stack_running(tmp_path, port=free_port()) as running_stack:
        yield running_stack
