from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import LazySettings
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from config.api.throttling import KEY_PREFIX, parse_rate
from config.models import Membership
from config.services import api_key_create
from tests.config.api.conftest import bearer
from tests.conftest import Tenants

Role = Membership.Role
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts(settings: LazySettings) -> Iterator[None]:
    client = redis.Redis.from_url(settings.REDIS_URL)

    def flush() -> None:
        for key in client.scan_iter(f"{KEY_PREFIX}*"):
            client.delete(key)

    flush()
    yield
    flush()


def _statuses(client: APIClient, count: int, path: str = "/api/v1/api-keys") -> list[int]:
    return [client.get(path).status_code for _ in range(count)]


def test_rates_parse_into_count_and_seconds() -> None:
    assert parse_rate("600/min") == (600, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("1000/hour") == (1000, 3600)
    assert parse_rate("10/day") == (10, 86400)


def test_each_api_key_has_its_own_limit_and_a_refusal_says_when_to_retry(
    settings: LazySettings, key_token: Callable[..., str]
) -> None:
    settings.API_RATE_LIMIT = "3/min"
    first, second = bearer(key_token(Role.MERCHANT_ADMIN)), bearer(key_token(Role.MERCHANT_ADMIN))

    assert _statuses(first, 3) == [200, 200, 200]
    refused = first.get("/api/v1/api-keys")
    assert _statuses(second, 1) == [200]

    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json() == {
        "error": {
            "type": "throttled",
            "message": f"Request was throttled. Expected available in {retry_after} seconds.",
        }
    }


def test_the_count_lives_in_redis_shared_by_every_web_process(
    settings: LazySettings, tenants: Tenants
) -> None:
    """Requests another process counted (written straight to Redis here) count against this one."""
    settings.API_RATE_LIMIT = "5/hour"
    api_key, token = api_key_create(merchant=tenants.acme, role=Role.MERCHANT_ADMIN, name="k")
    client = bearer(token)
    assert _statuses(client, 1) == [200]
    now = time.time()
    window_start = int(now // 3600 * 3600)
    key = f"{KEY_PREFIX}key:{api_key.pk}:3600:{window_start}"
    shared = redis.Redis.from_url(settings.REDIS_URL)
    count, ttl = shared.get(key), shared.ttl(key)
    assert (count, isinstance(ttl, int) and 3600 <= ttl <= 3601) == (b"1", True)

    shared.incrby(key, 4)
    refused = client.get("/api/v1/api-keys")

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) in {
        math.ceil(window_start + 3600 - now),
        math.ceil(window_start + 3600 - now) - 1,
    }


def test_a_person_is_limited_across_their_tokens(
    settings: LazySettings, member_of_acme: Callable[[str], User]
) -> None:
    settings.API_RATE_LIMIT = "2/min"
    admin = member_of_acme(Role.MERCHANT_ADMIN)
    one, two = APIClient(), APIClient()
    one.force_authenticate(user=admin)
    two.force_authenticate(user=admin)

    assert _statuses(one, 2) + _statuses(two, 1) == [200, 200, 429]


def test_sign_in_attempts_are_limited_per_client_address(settings: LazySettings) -> None:
    settings.API_ANON_RATE_LIMIT = "2/min"
    client = APIClient()

    statuses = [
        client.post(
            "/api/v1/auth/token", {"username": "nobody", "password": "guess"}, format="json"
        ).status_code
        for _ in range(3)
    ]

    assert statuses == [401, 401, 429]


def test_the_count_starts_again_in_the_next_window(
    settings: LazySettings, key_token: Callable[..., str]
) -> None:
    settings.API_RATE_LIMIT = "2/s"
    client = bearer(key_token(Role.MERCHANT_ADMIN))
    # Start at the beginning of a second so the three requests share one window.
    time.sleep(1 - time.time() % 1)

    assert _statuses(client, 3) == [200, 200, 429]
    time.sleep(1 - time.time() % 1)
    assert _statuses(client, 1) == [200]


def test_requests_go_through_when_redis_is_down(
    settings: LazySettings, key_token: Callable[..., str]
) -> None:
    settings.API_RATE_LIMIT = "1/min"
    client = bearer(key_token(Role.MERCHANT_ADMIN))
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    assert _statuses(client, 3) == [200, 200, 200]
