"""Fixture data for the dashboards: one UTC day of Acme's calls, and some outside it.

Day 2026-11-20 (UTC), Acme:
  order-confirmation  c1 10:05 twilio  ended answered  confirmed  waits 100 200 300 400
                      c2 10:40 twilio  ended answered  confirmed  wait 1000
                      c3 11:15 plivo   ended no_answer
                      c4 11:20 twilio  ended blocked (never dialled)
                      c5 12:00 twilio  in progress     waits 500
  abandoned-cart      c6 13:30 simulator ended answered callback  waits 800 900
Outside: Acme c7 on 2026-11-22; Globex g1 on 2026-11-20 10:10 (wait 5000).
Webhooks (Acme, that day): 3 succeeded, 1 dead, 1 pending; Globex: 1 failed.
Campaigns (Acme): "November" running, 4 leads (L1 called twice, both answered, completed
with an outcome; L2 called once, unanswered; L3, L4 never called); a draft; one stopped on
2026-11-10.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from calls.models import Call, Turn
from calls.services import call_create
from calls.webhooks.models import WebhookDelivery
from config.models import Merchant
from leads.models import Campaign, Lead
from templates_app.models import Template
from templates_app.services import template_load_demos
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS

DAY = dt.date(2026, 11, 20)


def at(hour: int, minute: int, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


@dataclass(frozen=True)
class DashboardData:
    order: Template
    cart: Template
    globex_order: Template
    november: Campaign


def _call(
    template: Template,
    *,
    created: dt.datetime,
    provider: str,
    status: str = Call.Status.ENDED,
    disposition: str = "",
    outcome: str = "",
    waits: tuple[int, ...] = (),
    lead: Lead | None = None,
) -> Call:
    call = call_create(
        version=template.versions.get(),
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider=provider,
        customer_phone="+15555550123",
        payload=DEMO_PAYLOADS[template.slug],
        lead_id=lead.pk if lead else None,
    )
    answered = disposition == Call.Disposition.ANSWERED or status == Call.Status.IN_PROGRESS
    Call.objects.filter(pk=call.pk).update(
        created_at=created,
        status=status,
        disposition=disposition,
        outcome=outcome,
        answered_at=created if answered else None,
    )
    for index, wait in enumerate(waits):
        Turn.objects.create(call=call, index=index, speaker="bot", text="…", latency_ms=wait)
    return call


def _delivery(merchant: Merchant, status: str, created: dt.datetime) -> None:
    delivery = WebhookDelivery.objects.create(
        merchant=merchant,
        target_url="https://hooks.example.com/breeze",
        event_id=str(uuid.uuid4()),
        event_type="call.completed",
        payload={},
        status=status,
        next_attempt_at=created,
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=created)


def _lead(template: Template, campaign: Campaign, **fields: Any) -> Lead:
    values: dict[str, Any] = {
        "merchant_id": template.merchant_id,
        "template": template,
        "template_version": template.versions.get(),
        "phone": f"+9198100{Lead.objects.count():05d}",
        "payload": dict(DEMO_PAYLOADS[template.slug]),
        "status": Lead.Status.SCHEDULED,
        "next_attempt_at": timezone.now(),
        "campaign": campaign,
    }
    values.update(fields)
    return Lead.objects.create(**values)


@pytest.fixture
def dashboard_data(tenants: Tenants) -> DashboardData:
    template_load_demos(merchant=tenants.acme)
    template_load_demos(merchant=tenants.globex)
    order = Template.objects.get(merchant=tenants.acme, slug="order-confirmation")
    cart = Template.objects.get(merchant=tenants.acme, slug="abandoned-cart")
    globex_order = Template.objects.get(merchant=tenants.globex, slug="order-confirmation")

    november = Campaign.objects.create(
        merchant=tenants.acme, template=order, name="November", status=Campaign.Status.RUNNING
    )
    Campaign.objects.create(merchant=tenants.acme, template=order, name="Draft")
    stopped = Campaign.objects.create(
        merchant=tenants.acme,
        template=order,
        name="October",
        status=Campaign.Status.STOPPED,
        stopped_at=at(9, 0, dt.date(2026, 11, 10)),
    )
    Campaign.objects.filter(pk__in=[november.pk, stopped.pk]).update(
        created_at=at(8, 0, dt.date(2026, 11, 1))
    )
    first = _lead(order, november, status=Lead.Status.COMPLETED, outcome="confirmed")
    second = _lead(order, november)
    _lead(order, november)
    _lead(order, november)

    answered = Call.Disposition.ANSWERED
    _call(order, created=at(10, 5), provider="twilio", disposition=answered,
          outcome="confirmed", waits=(100, 200, 300, 400), lead=first)  # fmt: skip
    _call(order, created=at(10, 40), provider="twilio", disposition=answered,
          outcome="confirmed", waits=(1000,), lead=first)  # fmt: skip
    _call(order, created=at(11, 15), provider="plivo", disposition=Call.Disposition.NO_ANSWER,
          lead=second)  # fmt: skip
    _call(order, created=at(11, 20), provider="twilio", disposition=Call.Disposition.BLOCKED)
    _call(order, created=at(12, 0), provider="twilio", status=Call.Status.IN_PROGRESS,
          waits=(500,))  # fmt: skip
    _call(cart, created=at(13, 30), provider="simulator", disposition=answered,
          outcome="callback", waits=(800, 900))  # fmt: skip
    _call(order, created=at(10, 0, dt.date(2026, 11, 22)), provider="twilio",
          disposition=answered, waits=(50,))  # fmt: skip
    _call(globex_order, created=at(10, 10), provider="twilio", disposition=answered,
          outcome="confirmed", waits=(5000,))  # fmt: skip

    for status in ["succeeded", "succeeded", "succeeded", "dead", "pending"]:
        _delivery(tenants.acme, status, at(14, 0))
    _delivery(tenants.globex, "failed", at(14, 0))
    return DashboardData(order, cart, globex_order, november)
