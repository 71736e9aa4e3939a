from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.conf import LazySettings
from django.utils import timezone

from breeze.celery import app as celery_app
from calls.models import Call
from leads.dispatch.limiter import PREFIX, limiter_redis
from leads.models import Lead
from telephony import services as telephony_services
from templates_app.models import Template
from tests.demo_payloads import DEMO_PAYLOADS

# Windows open every day, all day, with no jitter: tests that are not about windows or
# jitter get exact, clock-independent results.
ALWAYS: dict[str, Any] = {
    "calling_windows": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "24:00",
        }
    ],
    "time_zone": "UTC",
    "max_attempts": 3,
    "retry_delays": {"no_answer": 600, "busy": 300, "failed": 120, "voicemail": 900},
    "retry_jitter": 0,
    "telephony_provider": "simulator",
    "execution_modes": ["TELEPHONY", "TELEPHONY_TEST", "DAILY", "DAILY_TEST"],
}


@pytest.fixture
def celery_not_eager() -> Iterator[None]:
    """Tasks go to the broker (this test's Redis) instead of running at once."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def limiter(settings: LazySettings) -> Iterator[redis.Redis]:
    """This test's Redis with no limiter slots left over from another test."""
    client = limiter_redis()

    def clear() -> None:
        for key in client.scan_iter(match=f"{PREFIX}*"):
            client.delete(key)

    clear()
    yield client
    clear()


_NUMBERS = itertools.count(1)


class Dials:
    """What the simulator provider was asked to dial (the provider boundary), thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.call_ids: list[int] = []

    def __call__(self, call: Call) -> None:
        with self.lock:
            self.call_ids.append(call.pk)


@pytest.fixture
def dials(monkeypatch: pytest.MonkeyPatch) -> Dials:
    recorder = Dials()
    monkeypatch.setitem(telephony_services.PLACERS, "simulator", recorder)
    return recorder


@pytest.fixture
def dispatch_template(make_template: Callable[..., Template]) -> Template:
    return make_template("dispatch-test", execution=dict(ALWAYS))


@pytest.fixture
def make_lead(dispatch_template: Template) -> Callable[..., Lead]:
    def make(template: Template | None = None, **fields: Any) -> Lead:
        template = template or dispatch_template
        values: dict[str, Any] = {
            "merchant_id": template.merchant_id,
            "template": template,
            "template_version": template.versions.get(),
            # A number of its own, so the per-number hourly cap stays out of the way.
            "phone": f"+91981{next(_NUMBERS):07d}",
            "payload": dict(DEMO_PAYLOADS["order-confirmation"]),
            "status": Lead.Status.SCHEDULED,
            "next_attempt_at": timezone.now(),
        }
        values.update(fields)
        return Lead.objects.create(**values)

    return make
