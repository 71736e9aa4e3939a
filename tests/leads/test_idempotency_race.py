"""A retry racing the first push with the same idempotency key gets the first lead, not a second.

The first push is held open in another thread's transaction (its lead inserted, not yet
committed), so the retry finds no lead by key, inserts, and waits on the unique index until
the first commits: exactly the window a client's timeout-and-retry hits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from rest_framework.test import APIClient

from leads.models import Lead, LeadTransition
from leads.services import lead_create
from tests.leads.conftest import push_body

HOLD_SECONDS = 0.5


@pytest.fixture
def first_push_held_open(
    transactional_db: None, operator_api: APIClient
) -> Iterator[Callable[[dict[str, Any]], Lead]]:
    """Start pushing `body` as operator_api's user in another thread; its lead, uncommitted."""
    operator = User.objects.get(username="operator-acme")
    threads: list[threading.Thread] = []

    def start(body: dict[str, Any]) -> Lead:
        inserted = threading.Event()
        leads: list[Lead] = []

        def push() -> None:
            try:
                with transaction.atomic():
                    lead, _ = lead_create(user=operator, data=body)
                    leads.append(lead)
                    inserted.set()
                    time.sleep(HOLD_SECONDS)
            finally:
                inserted.set()
                connection.close()

        thread = threading.Thread(target=push)
        threads.append(thread)
        thread.start()
        assert inserted.wait(10)
        assert leads, "the first push failed"
        return leads[0]

    yield start
    for thread in threads:
        thread.join(10)


def test_a_single_push_racing_the_first_answers_200_with_its_lead(
    first_push_held_open: Callable[[dict[str, Any]], Lead], operator_api: APIClient
) -> None:
    body = push_body(idempotency_key="order-race")
    first = first_push_held_open(body)

    started = time.monotonic()
    retry = operator_api.post("/api/v1/leads", body, format="json")
    waited = time.monotonic() - started

    assert (retry.status_code, retry.json()["id"]) == (200, first.pk)
    # It really waited for the first push's commit on the unique index.
    assert waited > HOLD_SECONDS / 2
    assert list(Lead.objects.values_list("pk", flat=True)) == [first.pk]
    assert LeadTransition.objects.count() == 1


def test_a_bulk_racing_a_push_returns_that_lead_and_stores_the_rest(
    first_push_held_open: Callable[[dict[str, Any]], Lead], operator_api: APIClient
) -> None:
    held = push_body(idempotency_key="order-race")
    first = first_push_held_open(held)
    other = push_body(idempotency_key="order-other", phone="+919812345679")

    response = operator_api.post("/api/v1/leads/bulk", {"leads": [held, other]}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["existing"]) == (1, 1)
    assert [(item["id"] == first.pk, item["created"]) for item in body["leads"]] == [
        (True, False),
        (False, True),
    ]
    assert Lead.objects.count() == 2
    assert LeadTransition.objects.count() == 2
