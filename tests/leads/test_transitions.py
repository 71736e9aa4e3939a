from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from leads.models import Lead, LeadTransition
from leads.services import lead_transition
from templates_app.models import Template

Status = Lead.Status


@pytest.fixture
def lead(order_template: Template) -> Lead:
    return Lead.objects.create(
        merchant_id=order_template.merchant_id,
        template=order_template,
        template_version=order_template.versions.get(),
        phone="+919812345678",
        status=Status.SCHEDULED,
    )


def test_moves_and_records_who_and_why(lead: Lead) -> None:
    due = timezone.now()
    moved = lead_transition(
        lead_id=lead.pk,
        from_statuses=[Status.QUEUED, Status.SCHEDULED],
        to_status=Status.DIALING,
        actor="dispatcher",
        reason="claimed",
        attempts=1,
        next_attempt_at=due,
    )

    assert moved is True
    lead.refresh_from_db()
    assert (lead.status, lead.attempts, lead.next_attempt_at) == (Status.DIALING, 1, due)
    history = list(
        LeadTransition.objects.filter(lead=lead).values_list(
            "from_status", "to_status", "actor", "reason"
        )
    )
    assert history == [("scheduled", "dialing", "dispatcher", "claimed")]


def test_refuses_a_lead_in_another_status_and_writes_nothing(lead: Lead) -> None:
    moved = lead_transition(
        lead_id=lead.pk,
        from_statuses=[Status.DIALING],
        to_status=Status.IN_CALL,
        actor="worker",
        attempts=5,
    )

    assert moved is False
    lead.refresh_from_db()
    assert (lead.status, lead.attempts) == (Status.SCHEDULED, 0)
    assert not LeadTransition.objects.filter(lead=lead).exists()


@pytest.mark.django_db(transaction=True)
def test_of_concurrent_moves_from_one_status_exactly_one_wins(lead: Lead) -> None:
    def claim(worker: int) -> bool:
        try:
            return lead_transition(
                lead_id=lead.pk,
                from_statuses=[Status.SCHEDULED],
                to_status=Status.DIALING,
                actor=f"worker-{worker}",
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(claim, range(8)))

    assert results.count(True) == 1
    assert LeadTransition.objects.filter(lead=lead).count() == 1
