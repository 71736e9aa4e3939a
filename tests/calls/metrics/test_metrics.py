from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from calls.metrics.collector import call_metrics
from calls.models import Call
from calls.services import call_create, call_end, call_mark_in_progress, call_record_turn
from calls.voice import pool
from calls.webhooks.models import WebhookAttempt, WebhookDelivery
from calls.webhooks.services import webhook_endpoint_create
from config.metrics import CachedCollector
from templates_app.models import TemplateVersion
from tests.calls.conftest import ORDER_PAYLOAD
from tests.conftest import Tenants

TOKEN = "metrics-s3cret"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(autouse=True)
def metrics_on(settings: LazySettings) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_CACHE_SECONDS = 0


@pytest.fixture
def clean_registry() -> Iterator[redis.Redis]:
    client = pool.sync_client()
    keys = list(client.scan_iter(match=f"{pool.PREFIX}*"))
    if keys:
        client.delete(*keys)
    yield client
    client.close()


def _new_call(version: TemplateVersion) -> Call:
    return call_create(
        version=version,
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider="simulator",
        customer_phone="+15555550123",
        payload=ORDER_PAYLOAD,
    )


def _bot_turn(call: Call, index: int, total: int, stt: int | None, llm: int | None) -> None:
    tts = None if stt is None or llm is None else total - stt - llm - 100
    call_record_turn(
        call_id=call.pk,
        index=index,
        speaker="bot",
        text="…",
        latency={"total_ms": total, "stt_ms": stt, "llm_ms": llm, "tts_ms": tts},
    )


async def _register_workers() -> None:
    client = pool.async_client()
    await pool.worker_heartbeat(client, worker_id="idle1", address="ws://a", pid=1, call_id=None)
    await pool.worker_heartbeat(client, worker_id="busy1", address="ws://b", pid=2, call_id=9)
    await pool.worker_heartbeat(client, worker_id="gone1", address="ws://c", pid=3, call_id=None)
    await client.delete(f"{pool.PREFIX}alive:gone1")
    await pool.pool_request_worker(client)
    await client.aclose()


def _scrape(client: Client) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def _histogram(samples: Samples, name: str, **labels: str) -> dict[str, float]:
    """`le` → cumulative count, plus `count` and `sum`, of one labelled series."""
    key = tuple(sorted(labels.items()))
    found = {
        dict(sample_labels)["le"]: value
        for (sample_name, sample_labels), value in samples.items()
        if sample_name == f"{name}_bucket"
        and tuple(item for item in sample_labels if item[0] != "le") == key
    }
    found["count"] = samples[(f"{name}_count", key)]
    found["sum"] = round(samples[(f"{name}_sum", key)], 6)
    return found


@pytest.mark.django_db
def test_metrics_describe_calls_pool_webhooks_and_turn_latency(
    client: Client, published: TemplateVersion, tenants: Tenants, clean_registry: redis.Redis
) -> None:
    answered, missed, live, _queued = (_new_call(published) for _ in range(4))
    assert call_mark_in_progress(call_id=answered.pk, worker_id="w-a")
    assert call_end(call_id=answered.pk, disposition="answered", end_reason="bot_ended")
    assert call_end(call_id=missed.pk, disposition="no_answer", end_reason="no_answer")
    assert call_mark_in_progress(call_id=live.pk, worker_id="busy1")
    _bot_turn(answered, 0, 400, stt=100, llm=200)
    call_record_turn(call_id=answered.pk, index=1, speaker="customer", text="yes")
    _bot_turn(answered, 2, 1200, stt=300, llm=700)
    _bot_turn(live, 0, 6000, stt=None, llm=None)
    asyncio.run(_register_workers())
    endpoint, _secret = webhook_endpoint_create(
        merchant_id=tenants.acme.pk, url="https://a.example/h"
    )
    deliveries = [
        WebhookDelivery.objects.create(
            merchant=tenants.acme,
            endpoint=endpoint,
            event_id=f"evt_{n}",
            event_type="call.completed",
            payload={},
            status=status,
            next_attempt_at=timezone.now(),
        )
        for n, status in enumerate(["succeeded", "succeeded", "dead", "pending"])
    ]
    for number, (delivery, code) in enumerate(
        [(deliveries[0], 200), (deliveries[1], 204), (deliveries[2], 503), (deliveries[2], None)]
    ):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            url=endpoint.url,
            started_at=timezone.now(),
            duration_ms=5,
            status_code=code,
            error="" if code else "timed out",
        )

    samples = _scrape(client)

    calls = {labels: v for (name, labels), v in samples.items() if name == "breeze_calls"}
    assert calls == {
        (("disposition", "answered"), ("status", "ended")): 1,
        (("disposition", "no_answer"), ("status", "ended")): 1,
        (("disposition", ""), ("status", "in_progress")): 1,
        (("disposition", ""), ("status", "queued")): 1,
    }
    assert samples[("breeze_calls_active", ())] == 1
    assert (samples[("breeze_leads_due", ())], samples[("breeze_dispatch_lag_seconds", ())]) == (
        0,
        0,
    )
    assert samples[("breeze_voice_pool_workers", (("state", "idle"),))] == 1
    assert samples[("breeze_voice_pool_workers", (("state", "busy"),))] == 1
    assert samples[("breeze_voice_pool_workers", (("state", "claimed"),))] == 0
    assert samples[("breeze_voice_pool_empty_total", ())] == 1
    assert {
        labels: v for (name, labels), v in samples.items() if name == "breeze_webhook_deliveries"
    } == {(("status", "dead"),): 1, (("status", "pending"),): 1, (("status", "succeeded"),): 2}
    assert {
        labels: v for (name, labels), v in samples.items() if name == "breeze_webhook_attempts"
    } == {(("result", "2xx"),): 2, (("result", "5xx"),): 1, (("result", "error"),): 1}
    series = {"merchant": "acme", "template": "order-confirmation"}
    assert _histogram(
        samples, "breeze_turn_latency_seconds", **series, provider="simulator"
    ) == {
        "0.25": 0, "0.5": 1, "0.75": 1, "1.0": 1, "1.5": 2, "2.0": 2, "3.0": 2, "5.0": 2,
        "10.0": 3, "+Inf": 3, "count": 3, "sum": 7.6,
    }  # fmt: skip
    assert _histogram(
        samples, "breeze_turn_stage_seconds", **series, provider="rules", stage="llm"
    ) == {
        "0.25": 1, "0.5": 1, "0.75": 2, "1.0": 2, "1.5": 2, "2.0": 2, "3.0": 2, "5.0": 2,
        "10.0": 2, "+Inf": 2, "count": 2, "sum": 0.9,
    }  # fmt: skip
    assert (
        _histogram(
            samples, "breeze_turn_stage_seconds", **series, provider="pocketsphinx", stage="stt"
        )["sum"]
        == 0.4
    )
    assert _histogram(
        samples, "breeze_turn_stage_seconds", **series, provider="piper", stage="tts"
    ) == {
        "0.25": 2, "0.5": 2, "0.75": 2, "1.0": 2, "1.5": 2, "2.0": 2, "3.0": 2, "5.0": 2,
        "10.0": 2, "+Inf": 2, "count": 2, "sum": 0.1,
    }  # fmt: skip


@pytest.mark.django_db
def test_scrapes_within_the_cache_time_reuse_one_reading(
    published: TemplateVersion, settings: LazySettings, clean_registry: redis.Redis
) -> None:
    settings.METRICS_CACHE_SECONDS = 60
    collector = CachedCollector([call_metrics])

    def active_calls() -> float:
        (family,) = (f for f in collector.collect() if f.name == "breeze_calls_active")
        return float(family.samples[0].value)

    live = _new_call(published)
    assert call_mark_in_progress(call_id=live.pk, worker_id="w-1")
    first = active_calls()
    assert call_mark_in_progress(call_id=_new_call(published).pk, worker_id="w-2")
    assert (first, active_calls()) == (1, 1)
    assert [
        f.samples[0].value
        for f in CachedCollector([call_metrics]).collect()
        if f.name == "breeze_calls_active"
    ] == [2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Bearer {TOKEN}x", f"bearer {TOKEN}", TOKEN, f"Basic {TOKEN}"],
)
def test_metrics_refuse_a_missing_or_wrong_token(client: Client, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"breeze_" not in response.content


@pytest.mark.django_db
def test_metrics_are_off_without_a_token(client: Client, settings: LazySettings) -> None:
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 404


@pytest.mark.django_db
def test_metrics_answer_only_get(client: Client) -> None:
    response = client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405
