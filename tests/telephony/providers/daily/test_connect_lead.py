"""A pushed DAILY / DAILY_TEST lead waits for its client instead of being dialled; the client's
`POST /api/v1/daily/connect {"lead_id": N}` starts its session, and the lead then follows the
session's call like a phone lead follows its call."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import Call
from calls.services import call_end, call_mark_in_progress
from config.models import Membership
from leads.dispatch.services import leads_dispatch_due
from leads.imports import lead_import_run
from leads.models import Lead, LeadTransition
from leads.tasks import dispatch_due_leads
from telephony import services as telephony_services
from telephony.providers.daily.models import DailyRoom
from telephony.providers.daily.rooms import daily_room_pool_maintain
from templates_app.services import template_load_demos
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS

# CSV uploads go to a folder of each test's own.
from tests.leads.conftest import media_root  # noqa: F401
from tests.telephony.providers.daily.fake_daily import FakeDaily, client_token

URL = "/api/v1/daily/connect"
PAYLOAD = DEMO_PAYLOADS["order-confirmation"]
pytestmark = pytest.mark.usefixtures("order_template")
WAIT_REASON = "pushed; {mode} lead waits for a client to connect"


@pytest.fixture
def operator(api: Callable[[str], APIClient]) -> APIClient:
    return api(Membership.Role.OPERATOR)


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Calls any phone provider was asked to place (the provider boundary)."""
    asked: list[int] = []
    for name in list(telephony_services.PLACERS):
        monkeypatch.setitem(telephony_services.PLACERS, name, lambda call: asked.append(call.pk))
    return asked


def _push(client: APIClient, mode: str = "DAILY", **changes: Any) -> Lead:
    body = {
        "template": "order-confirmation",
        "phone": "+919812345678",
        "payload": dict(PAYLOAD),
        "execution_mode": mode,
        **changes,
    }
    response = client.post("/api/v1/leads", body, format="json")
    assert response.status_code == 201, response.json()
    return Lead.objects.get(pk=response.json()["id"])


def _upload_daily_csv(client: APIClient) -> Any:
    return client.post(
        "/api/v1/leads/import",
        {
            "file": SimpleUploadedFile(
                "leads.csv",
                b"phone,customer_name,order_id,order_total\n+919812345679,Asha,A1,10 rupees\n",
                content_type="text/csv",
            ),
            "template": "order-confirmation",
            "execution_mode": "DAILY",
        },
        format="multipart",
    )


def _history(lead: Lead) -> list[tuple[str, str, str, str]]:
    return [
        (t.from_status, t.to_status, t.actor, t.reason)
        for t in LeadTransition.objects.filter(lead=lead)
    ]


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["type"], error["message"]


@pytest.mark.parametrize("mode", ["DAILY", "DAILY_TEST"])
def test_a_pushed_daily_lead_waits_undialled_then_its_client_connects(
    operator: APIClient,
    daily_api: FakeDaily,
    acme_daily: None,
    placed: list[int],
    django_capture_on_commit_callbacks: Any,
    mode: str,
) -> None:
    daily_room_pool_maintain()
    pool_requests = len(daily_api.requests)
    with django_capture_on_commit_callbacks(execute=True) as kicks:
        lead = _push(operator, mode)

    # Waiting: queued with no due time, so no dispatch is even kicked.
    assert (lead.status, lead.next_attempt_at, lead.attempts) == (Lead.Status.QUEUED, None, 0)
    assert kicks == []
    assert _history(lead) == [("", "queued", "user:operator-acme", WAIT_REASON.format(mode=mode))]

    dispatch_due_leads()  # the beat's task, run here
    report = leads_dispatch_due()

    assert report.claimed == 0
    assert Call.objects.count() == 0
    assert placed == []
    assert len(daily_api.requests) == pool_requests
    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUEUED

    with django_capture_on_commit_callbacks() as callbacks:
        response = operator.post(URL, {"lead_id": lead.pk, "recording": True}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    call = Call.objects.get(lead=lead)
    room = call.daily_room
    assert sorted(body) == ["call_id", "expires_at", "lead_id", "room_url", "token"]
    assert (body["call_id"], body["lead_id"], body["room_url"]) == (call.pk, lead.pk, room.url)
    assert Call.objects.count() == 1
    assert (room.status, room.is_recording) == (DailyRoom.Status.ASSIGNED, True)
    assert daily_api.token_properties(body["token"]) == client_token(room.name, room.expires_at)
    assert (
        call.lead_id,
        call.template_version_id,
        call.payload,
        call.execution_mode,
        call.provider,
        call.status,
        call.provider_call_id,
    ) == (
        lead.pk,
        lead.template_version_id,
        PAYLOAD,
        mode,
        "daily",
        Call.Status.QUEUED,
        room.name,
    )
    lead.refresh_from_db()
    assert (lead.status, lead.attempts, lead.next_attempt_at) == (Lead.Status.DIALING, 1, None)
    assert _history(lead)[1:] == [
        (
            "queued",
            "dialing",
            "user:operator-acme",
            f"client connected: Daily session, call {call.pk}",
        )
    ]
    # The bot is sent once the call and the lead's move have committed.
    assert len(callbacks) == 1
    assert placed == []


def test_the_lead_follows_its_session_call_to_completion(
    operator: APIClient, daily_api: FakeDaily, acme_daily: None
) -> None:
    lead = _push(operator)
    operator.post(URL, {"lead_id": lead.pk}, format="json")
    call = Call.objects.get(lead=lead)

    call_mark_in_progress(call_id=call.pk, worker_id="worker-1")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.IN_CALL

    call_end(call_id=call.pk, disposition=Call.Disposition.ANSWERED, end_reason="bot_ended")

    lead.refresh_from_db()
    assert (lead.status, lead.last_disposition, lead.next_attempt_at) == (
        Lead.Status.COMPLETED,
        "answered",
        None,
    )
    assert [(t.from_status, t.to_status, t.reason) for t in lead.transitions.all()][2:] == [
        ("dialing", "in_call", f"call {call.pk} answered"),
        ("in_call", "completed", "call answered"),
    ]


def test_a_retryable_end_puts_the_lead_back_waiting_for_its_client_not_the_dialler(
    operator: APIClient, daily_api: FakeDaily, acme_daily: None, placed: list[int]
) -> None:
    lead = _push(operator)
    operator.post(URL, {"lead_id": lead.pk}, format="json")
    first = Call.objects.get(lead=lead)

    call_end(call_id=first.pk, disposition=Call.Disposition.NO_ANSWER, end_reason="client_absent")
    report = leads_dispatch_due()

    lead.refresh_from_db()
    assert (lead.status, lead.next_attempt_at, lead.attempts) == (Lead.Status.QUEUED, None, 1)
    assert lead.transitions.last() is not None
    assert lead.transitions.last().reason == (  # type: ignore[union-attr]
        "no_answer, retry 2 of 3; waits for its client to connect again"
    )
    assert report.claimed == 0
    assert placed == []

    again = operator.post(URL, {"lead_id": lead.pk}, format="json")

    assert again.status_code == 201
    second = Call.objects.exclude(pk=first.pk).get(lead=lead)
    lead.refresh_from_db()
    assert (again.json()["call_id"], lead.status, lead.attempts) == (
        second.pk,
        Lead.Status.DIALING,
        2,
    )


def test_an_unknown_lead_is_404_naming_it(
    operator: APIClient, daily_api: FakeDaily, acme_daily: None
) -> None:
    response = operator.post(URL, {"lead_id": 987654}, format="json")
    beyond_any_id = operator.post(URL, {"lead_id": 10**20}, format="json")

    assert _error(response) == (404, "not_found", "Unknown lead 987654.")
    assert _error(beyond_any_id) == (404, "not_found", f"Unknown lead {10**20}.")
    assert Call.objects.count() == 0
    assert daily_api.requests == []


def test_another_merchants_lead_is_404_and_untouched(
    operator: APIClient,
    daily_api: FakeDaily,
    acme_daily: None,
    tenants: Tenants,
    make_member: Callable[..., User],
) -> None:
    template_load_demos(merchant=tenants.globex)
    globex = APIClient()
    globex.force_authenticate(user=make_member(Membership.Role.OPERATOR, tenants.globex))
    theirs = _push(globex, merchant="globex")

    response = operator.post(URL, {"lead_id": theirs.pk}, format="json")

    assert _error(response) == (404, "not_found", f"Unknown lead {theirs.pk}.")
    theirs.refresh_from_db()
    assert theirs.status == Lead.Status.QUEUED
    assert Call.objects.count() == 0


def test_a_phone_lead_is_400_naming_lead_id(
    operator: APIClient, daily_api: FakeDaily, acme_daily: None, placed: list[int]
) -> None:
    lead = _push(operator, "TELEPHONY")

    response = operator.post(URL, {"lead_id": lead.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == [
        {
            "field": "lead_id",
            "code": "invalid",
            "message": f"Lead {lead.pk} is a TELEPHONY lead; only DAILY or DAILY_TEST leads "
            "connect.",
        }
    ]
    assert Call.objects.count() == 0


def test_connecting_twice_is_409_and_makes_one_session(
    operator: APIClient, daily_api: FakeDaily, acme_daily: None
) -> None:
    lead = _push(operator, "DAILY_TEST")
    first = operator.post(URL, {"lead_id": lead.pk}, format="json")

    second = operator.post(URL, {"lead_id": lead.pk}, format="json")

    assert first.status_code == 201
    assert _error(second) == (
        409,
        "conflict",
        f"Lead {lead.pk} is already connected (dialing).",
    )
    assert Call.objects.count() == 1
    assert DailyRoom.objects.filter(status=DailyRoom.Status.ASSIGNED).count() == 1


@pytest.mark.parametrize("status", [Lead.Status.COMPLETED, Lead.Status.CANCELLED])
def test_a_lead_no_longer_waiting_is_409(
    operator: APIClient, daily_api: FakeDaily, acme_daily: None, status: str
) -> None:
    lead = _push(operator)
    Lead.objects.filter(pk=lead.pk).update(status=status)

    response = operator.post(URL, {"lead_id": lead.pk}, format="json")

    assert _error(response) == (
        409,
        "conflict",
        f"Lead {lead.pk} is {status}; it no longer waits for a client.",
    )
    assert Call.objects.count() == 0


def test_a_viewer_may_not_connect_a_lead(
    api: Callable[[str], APIClient], operator: APIClient, daily_api: FakeDaily, acme_daily: None
) -> None:
    lead = _push(operator)

    response = api(Membership.Role.VIEWER).post(URL, {"lead_id": lead.pk}, format="json")

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUEUED


def test_daily_unavailable_leaves_the_lead_waiting_and_the_room_pooled(
    operator: APIClient, daily_api: FakeDaily, acme_daily: None
) -> None:
    daily_room_pool_maintain()
    lead = _push(operator)
    daily_api.fail(503)

    response = operator.post(URL, {"lead_id": lead.pk}, format="json")

    assert response.status_code == 503
    lead.refresh_from_db()
    assert (lead.status, lead.attempts) == (Lead.Status.QUEUED, 0)
    assert len(_history(lead)) == 1
    assert Call.objects.count() == 0
    assert DailyRoom.objects.filter(status=DailyRoom.Status.IDLE).count() == 2


def test_bulk_and_csv_daily_leads_wait_too(
    operator: APIClient, django_capture_on_commit_callbacks: Any, placed: list[int]
) -> None:
    bulk = operator.post(
        "/api/v1/leads/bulk",
        {
            "leads": [
                {
                    "template": "order-confirmation",
                    "phone": "+919812345678",
                    "payload": dict(PAYLOAD),
                    "execution_mode": "DAILY_TEST",
                }
            ]
        },
        format="json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        csv = _upload_daily_csv(operator)
    report = leads_dispatch_due()

    assert (bulk.status_code, csv.status_code) == (201, 202)
    leads = Lead.objects.order_by("pk")
    assert [(lead.execution_mode, lead.status, lead.next_attempt_at) for lead in leads] == [
        ("DAILY_TEST", Lead.Status.QUEUED, None),
        ("DAILY", Lead.Status.QUEUED, None),
    ]
    assert [t.reason for t in LeadTransition.objects.order_by("lead_id")] == [
        "bulk push; DAILY_TEST lead waits for a client to connect",
        f"CSV import {leads[1].lead_import_id}; DAILY lead waits for a client to connect",
    ]
    assert (report.claimed, placed, Call.objects.count()) == (0, [], 0)


def test_dispatch_now_refuses_a_daily_lead(operator: APIClient) -> None:
    lead = _push(operator)

    response = operator.post(f"/api/v1/leads/{lead.pk}/dispatch-now", format="json")

    assert _error(response) == (
        409,
        "conflict",
        "A Daily lead is never dialled; its client connects to it.",
    )
    lead.refresh_from_db()
    assert (lead.status, lead.next_attempt_at) == (Lead.Status.QUEUED, None)


def test_a_campaign_over_the_templates_waiting_leads_leaves_daily_leads_to_their_clients(
    operator: APIClient,
) -> None:
    daily = _push(operator)
    phone = _push(operator, "TELEPHONY", phone="+919812345679")

    response = operator.post(
        "/api/v1/campaigns",
        {"name": "Reminders", "template": "order-confirmation", "lead_filter": {}},
        format="json",
    )

    assert response.status_code == 201, response.json()
    daily.refresh_from_db()
    phone.refresh_from_db()
    assert (daily.campaign_id, daily.status) == (None, Lead.Status.QUEUED)
    assert (phone.campaign_id, phone.status) == (response.json()["id"], Lead.Status.QUEUED)


def test_daily_rows_of_a_campaigns_import_stay_out_of_the_campaign(
    operator: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        upload = _upload_daily_csv(operator)
    import_id = upload.json()["id"]
    campaign = operator.post(
        "/api/v1/campaigns",
        {"name": "From CSV", "template": "order-confirmation", "lead_import": import_id},
        format="json",
    )

    lead_import_run(import_id=import_id)

    assert campaign.status_code == 201, campaign.json()
    lead = Lead.objects.get()
    assert (lead.campaign_id, lead.status, lead.next_attempt_at) == (None, Lead.Status.QUEUED, None)


def test_the_migration_moves_daily_leads_pushed_before_out_of_the_dispatchers_reach(
    operator: APIClient, placed: list[int]
) -> None:
    migration = importlib.import_module("leads.migrations.0006_daily_leads_wait_for_their_client")
    earlier = _push(operator, "DAILY_TEST")
    # As a Daily lead was pushed before it waited: scheduled, due now.
    Lead.objects.filter(pk=earlier.pk).update(
        status=Lead.Status.SCHEDULED, next_attempt_at=timezone.now()
    )
    phone = _push(operator, "TELEPHONY", phone="+919812345679", scheduled_at="2099-01-01T00:00:00Z")

    migration.daily_leads_wait(django_apps, None)
    report = leads_dispatch_due()

    earlier.refresh_from_db()
    phone.refresh_from_db()
    assert (earlier.status, earlier.next_attempt_at) == (Lead.Status.QUEUED, None)
    assert _history(earlier)[-1] == (
        "scheduled",
        "queued",
        "migration",
        "Daily lead: waits for a client to connect",
    )
    assert phone.status == Lead.Status.SCHEDULED
    assert (report.claimed, placed) == (0, [])
