from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.test import Client

from tests.conftest import free_port


def test_healthz_answers_without_touching_dependencies(
    client: Client, settings: LazySettings
) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_readyz_is_ok_when_everything_is_reachable(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "broker": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_redis_when_redis_is_unreachable(
    client: Client, settings: LazySettings
) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failing": ["redis"],
        "checks": {"database": "ok", "redis": "error: ConnectionError", "broker": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_the_broker_when_it_is_unreachable(
    client: Client, settings: LazySettings
) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_readyz_accepts_only_get(client: Client) -> None:
    assert client.post("/readyz").status_code == 405
