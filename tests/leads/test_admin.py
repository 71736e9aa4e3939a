from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from config.models import Membership, Merchant
from leads.models import Lead, LeadImport, LeadTransition
from templates_app.models import Template
from tests.conftest import Tenants

Role = Membership.Role


def make_lead(template: Template, phone: str = "+919812345678", **fields: Any) -> Lead:
    return Lead.objects.create(
        merchant_id=template.merchant_id,
        template=template,
        template_version=template.versions.get(),
        phone=phone,
        **fields,
    )


@pytest.fixture
def acme_admin(
    login: Callable[[User], Client], member_of_acme: Callable[[str], User], order_template: Template
) -> Client:
    return login(member_of_acme(Role.OPERATOR))


def test_list_filters_and_phone_search(acme_admin: Client, order_template: Template) -> None:
    make_lead(order_template, "+919812345678")
    make_lead(order_template, "+919800000000", status="cancelled")
    url = reverse("admin:leads_lead_changelist")

    searched = acme_admin.get(url, {"q": "+91981234"})
    cancelled = acme_admin.get(url, {"status__exact": "cancelled"})

    assert [lead.phone for lead in searched.context["cl"].result_list] == ["+919812345678"]
    assert [lead.phone for lead in cancelled.context["cl"].result_list] == ["+919800000000"]


def test_bulk_actions_go_through_services_and_report_refusals(
    acme_admin: Client, order_template: Template
) -> None:
    waiting = make_lead(order_template)
    calling = make_lead(order_template, "+919800000001", status="dialing")

    response = acme_admin.post(
        reverse("admin:leads_lead_changelist"),
        {"action": "cancel_selected", "_selected_action": [waiting.pk, calling.pk]},
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == [
        "1 lead(s) cancelled.",
        f"Not changed: #{calling.pk}: A dialing lead cannot be cancelled.",
    ]
    assert list(LeadTransition.objects.values_list("lead_id", "to_status", "actor")) == [
        (waiting.pk, "cancelled", "user:operator-acme")
    ]


def test_dispatch_now_action(acme_admin: Client, order_template: Template) -> None:
    lead = make_lead(order_template, status="queued")

    acme_admin.post(
        reverse("admin:leads_lead_changelist"),
        {"action": "dispatch_now_selected", "_selected_action": [lead.pk]},
    )

    lead.refresh_from_db()
    assert lead.status == "scheduled"
    assert lead.next_attempt_at is not None


def test_a_viewer_has_no_actions(
    login: Callable[[User], Client],
    member_of_acme: Callable[[str], User],
    order_template: Template,
) -> None:
    lead = make_lead(order_template)
    viewer = login(member_of_acme(Role.VIEWER))

    page = viewer.get(reverse("admin:leads_lead_changelist"))
    viewer.post(
        reverse("admin:leads_lead_changelist"),
        {"action": "cancel_selected", "_selected_action": [lead.pk]},
    )

    assert "cancel_selected" not in page.content.decode()
    lead.refresh_from_db()
    assert lead.status == "scheduled"


def test_detail_shows_history_and_calls_read_only(
    acme_admin: Client, order_template: Template
) -> None:
    lead = make_lead(order_template)
    LeadTransition.objects.create(lead=lead, from_status="", to_status="scheduled", actor="me")

    page = acme_admin.get(reverse("admin:leads_lead_change", args=[lead.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "No calls yet." in html
    assert re.search(r'field-actor">\s*<p>me</p>', html)
    assert 'name="phone"' not in html  # read-only


def test_other_merchants_leads_are_absent(
    acme_admin: Client, tenants: Tenants, make_template: Callable[..., Template]
) -> None:
    theirs = make_lead(make_template("globex-orders", merchant=tenants.globex), "+12015550123")

    page = acme_admin.get(reverse("admin:leads_lead_change", args=[theirs.pk]), follow=True)
    listing = acme_admin.get(reverse("admin:leads_lead_changelist"))

    assert page.redirect_chain  # "does not exist" bounces back to the list
    assert list(listing.context["cl"].result_list) == []


def test_upload_form_starts_an_import_and_shows_progress(
    acme_admin: Client, order_template: Template, django_capture_on_commit_callbacks: Any
) -> None:
    content = b"phone,customer_name,order_id,order_total\n+919812345678,Asha,A1,10\n12,Ravi,A2,5\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = acme_admin.post(
            reverse("admin:leads_leadimport_add"),
            {
                "template": order_template.pk,
                "execution_mode": "TELEPHONY",
                "file": SimpleUploadedFile("nov.csv", content),
            },
        )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead_import = LeadImport.objects.get()
    progress = acme_admin.get(reverse("admin:leads_leadimport_progress", args=[lead_import.pk]))
    assert progress.json() == {
        "status": "completed",
        "total_rows": 2,
        "processed_rows": 2,
        "ok_rows": 1,
        "failed_rows": 1,
        "text": "Completed: 2 / 2 rows, 1 imported, 1 failed",
    }
    detail = acme_admin.get(reverse("admin:leads_leadimport_change", args=[lead_import.pk]))
    html = detail.content.decode()
    assert 'data-progress-url="/admin/leads/leadimport/' in html
    assert "<td>3</td><td>phone</td>" in html


def test_upload_form_shows_the_checks_on_the_fields(
    acme_admin: Client, order_template: Template
) -> None:
    response = acme_admin.post(
        reverse("admin:leads_leadimport_add"),
        {
            "template": order_template.pk,
            "execution_mode": "TELEPHONY",
            "file": SimpleUploadedFile("nov.csv", b"name,order_id\nAsha,A1\n"),
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "file": ["The header has no phone column."]
    }
    assert not LeadImport.objects.exists()


def test_progress_of_another_merchants_import_is_not_found(
    acme_admin: Client, tenants: Tenants, make_template: Callable[..., Template]
) -> None:
    template = make_template("globex-orders", merchant=tenants.globex)
    theirs = LeadImport.objects.create(
        merchant=tenants.globex, template=template, execution_mode="TELEPHONY", file="x.csv"
    )

    response = acme_admin.get(reverse("admin:leads_leadimport_progress", args=[theirs.pk]))

    assert response.status_code == 404
    assert Merchant.objects.count() == 2
