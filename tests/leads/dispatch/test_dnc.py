from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from calls.models import Call
from calls.webhooks.models import WebhookDelivery
from leads.dispatch.dnc import dnc_listed
from leads.dispatch.services import leads_dispatch_batch
from leads.models import DoNotCall, Lead, LeadTransition
from tests.conftest import Tenants
from tests.leads.conftest import push_body
from tests.leads.dispatch.conftest import Dials

Status = Lead.Status
MakeLead = Callable[..., Lead]
HOOK = "https://hooks.example.com/breeze"


def test_a_push_to_a_listed_number_ends_failed_blocked_with_its_event(
    operator_api: APIClient, tenants: Tenants
) -> None:
    DoNotCall.objects.create(merchant=tenants.acme, phone="+919812345678", reason="asked")

    response = operator_api.post("/api/v1/leads", push_body(webhook_url=HOOK), format="json")

    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.status, lead.last_disposition, lead.next_attempt_at) == (
        Status.FAILED,
        "blocked",
        None,
    )
    assert list(
        LeadTransition.objects.filter(lead=lead).values_list("to_status", "actor", "reason")
    ) == [
        ("scheduled", lead.created_by, "pushed"),
        ("failed", "do-not-call list", "the number is on a do-not-call list"),
    ]
    delivery = WebhookDelivery.objects.get(target_url=HOOK)
    assert delivery.payload["type"] == "lead.failed"
    assert delivery.payload["data"]["last_call_id"] is None


def test_platform_wide_entries_apply_to_every_merchant_and_merchant_ones_only_to_theirs(
    make_lead: MakeLead, tenants: Tenants
) -> None:
    DoNotCall.objects.create(merchant=None, phone="+919800000001")
    DoNotCall.objects.create(merchant=tenants.globex, phone="+919800000002")
    platform = make_lead(phone="+919800000001")
    other_merchants = make_lead(phone="+919800000002")
    clean = make_lead(phone="+919800000003")

    assert dnc_listed(leads=[platform, other_merchants, clean]) == {platform.pk}


def test_a_number_listed_after_the_push_is_blocked_at_dial(
    make_lead: MakeLead, dials: Dials, tenants: Tenants
) -> None:
    lead = make_lead(phone="+919800000009")
    other = make_lead()
    DoNotCall.objects.create(merchant=tenants.acme, phone="+919800000009")

    report = leads_dispatch_batch()

    lead.refresh_from_db()
    assert (report.claimed, report.failed, len(report.dialled)) == (2, 1, 1)
    assert (lead.status, lead.last_disposition) == (Status.FAILED, "blocked")
    assert not Call.objects.filter(lead=lead).exists()
    assert Call.objects.filter(lead=other).count() == 1


@pytest.mark.parametrize(
    ("merchant", "constraint"),
    [("acme", "dnc_unique_merchant_phone"), (None, "dnc_unique_platform_phone")],
)
def test_a_number_is_listed_once_per_merchant_and_once_platform_wide(
    tenants: Tenants, merchant: str | None, constraint: str
) -> None:
    owner = tenants.acme if merchant else None
    DoNotCall.objects.create(merchant=owner, phone="+919800000001")

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        DoNotCall.objects.create(merchant=owner, phone="+919800000001")
