"""Campaigns in the admin: the add form, lifecycle buttons and actions, live progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from calls.models import Call
from calls.services import call_end, call_mark_in_progress, call_update_outcome
from config.models import Membership
from leads.dispatch.services import leads_dispatch_batch
from leads.models import Campaign, Lead
from templates_app.models import Template
from tests.leads.dispatch.conftest import Dials

Role = Membership.Role
MakeLead = Callable[..., Lead]
MakeCampaign = Callable[..., Campaign]
Start = Callable[[Campaign], Campaign]


@pytest.fixture
def operator(
    login: Callable[[User], Client],
    member_of_acme: Callable[[str], User],
    dispatch_template: Template,
) -> Client:
    return login(member_of_acme(Role.OPERATOR))


def add_form(template: Template, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "November COD confirmations",
        "template": template.pk,
        "lead_import": "",
        "filter_status": ["queued", "scheduled"],
        "created_after": "",
        "created_before": "",
        "calls_per_minute": 6,
        "max_concurrency": 2,
        "failure_threshold": 0.5,
        "failure_window": 10,
    }
    values.update(changes)
    return values


def control(client: Client, campaign: Campaign, verb: str) -> Any:
    return client.post(
        reverse("admin:leads_campaign_control", args=[campaign.pk, verb]), follow=True
    )


def test_the_add_form_creates_through_the_service(
    operator: Client, dispatch_template: Template, make_lead: MakeLead
) -> None:
    lead = make_lead()

    response = operator.post(reverse("admin:leads_campaign_add"), add_form(dispatch_template))

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.status, campaign.calls_per_minute) == (
        "November COD confirmations",
        Campaign.Status.DRAFT,
        6,
    )
    assert campaign.created_by == "user:operator-acme"
    lead.refresh_from_db()
    assert (lead.campaign_id, lead.status) == (campaign.pk, Lead.Status.QUEUED)


def test_the_add_form_shows_refusals_on_their_fields(
    operator: Client, dispatch_template: Template
) -> None:
    response = operator.post(
        reverse("admin:leads_campaign_add"), add_form(dispatch_template, calls_per_minute=0)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "calls_per_minute": ["A whole number from 1 to 6000."]
    }
    assert not Campaign.objects.exists()


def test_buttons_start_and_pause_and_refuse_the_wrong_status(
    operator: Client, make_campaign: MakeCampaign, django_capture_on_commit_callbacks: Any
) -> None:
    campaign = make_campaign(leads=2)
    page = operator.get(reverse("admin:leads_campaign_change", args=[campaign.pk]))
    assert b'formaction="/admin/leads/campaign/%d/control/start/"' % campaign.pk in page.content
    assert b"/control/pause/" not in page.content

    with django_capture_on_commit_callbacks(execute=True):
        started = control(operator, campaign, "start")
    paused = control(operator, campaign, "pause")
    again = control(operator, campaign, "pause")

    assert [str(m) for m in started.context["messages"]] == ["1 campaign(s): start done."]
    assert [str(m) for m in paused.context["messages"]] == ["1 campaign(s): pause done."]
    assert [str(m) for m in again.context["messages"]] == [
        "Not changed: November COD confirmations: A paused campaign cannot be paused."
    ]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (
        Campaign.Status.PAUSED,
        "paused by user:operator-acme",
    )
    assert b"/control/resume/" in again.content
    assert b"paused by user:operator-acme" in again.content


def test_progress_json_counts_dials_answers_outcomes_and_what_remains(
    operator: Client, make_campaign: MakeCampaign, start: Start, dials: Dials
) -> None:
    campaign = start(make_campaign(leads=3, calls_per_minute=6000, max_concurrency=2))
    first, _ = leads_dispatch_batch().dialled
    call_mark_in_progress(call_id=first, worker_id="worker-1")
    call_update_outcome(call_id=first, outcome="confirmed", fields={})
    call_end(call_id=first, disposition=Call.Disposition.ANSWERED, end_reason="bot_ended")

    state = operator.get(reverse("admin:leads_campaign_progress", args=[campaign.pk])).json()

    assert state["status"] == "running"
    assert state["progress"] == {
        "leads": 3,
        "by_status": {
            "queued": 1,
            "scheduled": 0,
            "dialing": 1,
            "in_call": 0,
            "completed": 1,
            "failed": 0,
            "exhausted": 0,
            "cancelled": 0,
        },
        "dialled": 2,
        "answered": 1,
        "in_flight": 1,
        "remaining": 1,
        "outcomes": {"confirmed": 1},
    }
    assert state["text"] == ("Running: 2 dialled, 1 answered, 1 in flight, 1 remaining of 3 leads")


def test_a_viewer_sees_progress_but_may_not_press_buttons(
    login: Callable[[User], Client],
    member_of_acme: Callable[[str], User],
    make_campaign: MakeCampaign,
) -> None:
    campaign = make_campaign(leads=1)
    viewer = login(member_of_acme(Role.VIEWER))

    page = viewer.get(reverse("admin:leads_campaign_change", args=[campaign.pk]))
    refused = control(viewer, campaign, "start")

    assert page.status_code == 200
    assert [str(m) for m in refused.context["messages"]] == ["Your role may not do this."]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_another_merchants_campaign_does_not_exist_in_the_admin(
    operator: Client, globex_campaign: Campaign
) -> None:
    theirs = globex_campaign
    progress = operator.get(reverse("admin:leads_campaign_progress", args=[theirs.pk]))
    pressed = operator.post(reverse("admin:leads_campaign_control", args=[theirs.pk, "start"]))

    assert (progress.status_code, pressed.status_code) == (404, 404)
    theirs.refresh_from_db()
    assert theirs.status == Campaign.Status.DRAFT


def test_the_campaign_page_links_to_its_leads(
    operator: Client, make_campaign: MakeCampaign, make_lead: MakeLead
) -> None:
    campaign = make_campaign(leads=2)
    make_lead()  # not in the campaign

    page = operator.get(reverse("admin:leads_campaign_change", args=[campaign.pk]))
    listed = operator.get(
        reverse("admin:leads_lead_changelist"), {"campaign__id__exact": campaign.pk}
    )

    assert f"/admin/leads/lead/?campaign__id__exact={campaign.pk}" in page.content.decode()
    assert sorted(lead.pk for lead in listed.context["cl"].result_list) == sorted(
        Lead.objects.filter(campaign=campaign).values_list("pk", flat=True)
    )
    assert len(listed.context["cl"].result_list) == 2


def test_the_list_and_the_add_page_render_with_live_progress(
    operator: Client, make_campaign: MakeCampaign
) -> None:
    campaign = make_campaign(leads=2)

    listed = operator.get(reverse("admin:leads_campaign_changelist"))
    add = operator.get(reverse("admin:leads_campaign_add"))

    assert listed.status_code == add.status_code == 200
    progress_url = reverse("admin:leads_campaign_progress", args=[campaign.pk])
    assert (
        f'<span data-campaign-progress="{progress_url}">'
        "Draft: 0 dialled, 0 answered, 0 in flight, 2 remaining of 2 leads</span>"
    ) in listed.content.decode()
    assert "leads/campaign_progress.js" in listed.content.decode()
    assert list(add.context["adminform"].form.fields) == [
        "name",
        "template",
        "lead_import",
        "filter_status",
        "created_after",
        "created_before",
        "calls_per_minute",
        "max_concurrency",
        "failure_threshold",
        "failure_window",
    ]
