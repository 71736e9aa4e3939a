"""Do-not-call lists and dispatch limits in the admin: who may change what, CSV paste, removal."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from config.models import Membership
from leads.models import DispatchLimits, DoNotCall
from tests.conftest import Tenants

Role = Membership.Role
Login = Callable[[User], Client]
Member = Callable[[str], User]
DNC_ADD = reverse("admin:leads_donotcall_add")
DNC_LIST = reverse("admin:leads_donotcall_changelist")
LIMITS_ADD = reverse("admin:leads_dispatchlimits_add")


def _listed() -> list[tuple[str | None, str, str]]:
    return [
        (entry.merchant.slug if entry.merchant else None, entry.phone, entry.reason)
        for entry in DoNotCall.objects.select_related("merchant").order_by("merchant", "phone")
    ]


def test_an_operator_pastes_csv_into_the_merchant_s_list(
    login: Login, member_of_acme: Member, tenants: Tenants
) -> None:
    client = login(member_of_acme(Role.OPERATOR))
    DoNotCall.objects.create(merchant=tenants.acme, phone="+919812345679", reason="earlier")
    pasted = "phone,name\n+919812345678,Asha\n\n+91 98123 45679\n+919812345678,again\n"

    response = client.post(
        DNC_ADD,
        {"merchant": tenants.acme.pk, "numbers": pasted, "reason": "asked"},
        follow=True,
    )

    assert response.status_code == 200
    assert next(str(m) for m in response.context["messages"]) == (
        "1 number(s) listed; 1 already on the list."
    )
    assert _listed() == [
        ("acme", "+919812345678", "asked"),
        ("acme", "+919812345679", "earlier"),
    ]


def test_a_bad_line_is_named_and_nothing_is_listed(
    login: Login, member_of_acme: Member, tenants: Tenants
) -> None:
    client = login(member_of_acme(Role.OPERATOR))

    response = client.post(
        DNC_ADD, {"merchant": tenants.acme.pk, "numbers": "+919812345678\n12ab\n", "reason": ""}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "numbers": ["line 2: '12ab': Not a phone number."]
    }
    assert _listed() == []


def test_national_numbers_are_read_in_the_merchant_s_country(
    login: Login, make_member: Callable[..., User], tenants: Tenants
) -> None:
    client = login(make_member(Role.OPERATOR, tenants.globex))

    client.post(DNC_ADD, {"merchant": tenants.globex.pk, "numbers": "(212) 736-5000"})

    assert _listed() == [("globex", "+12127365000", "")]


def test_only_platform_admins_keep_the_platform_wide_list(
    login: Login, member_of_acme: Member, make_member: Callable[..., User], tenants: Tenants
) -> None:
    operator = member_of_acme(Role.OPERATOR)
    platform = make_member(Role.PLATFORM_ADMIN, None)
    DoNotCall.objects.create(merchant=tenants.acme, phone="+919800000001")

    refused = login(operator).post(DNC_ADD, {"merchant": "", "numbers": "+919800000002"})
    assert refused.context["adminform"].form.errors == {"merchant": ["This field is required."]}
    shown_to_operator = [e.phone for e in login(operator).get(DNC_LIST).context["cl"].result_list]

    login(platform).post(DNC_ADD, {"merchant": "", "numbers": "+919800000002"})
    shown_to_platform = login(platform).get(DNC_LIST).context["cl"].result_list

    assert _listed() == [("acme", "+919800000001", ""), (None, "+919800000002", "")]
    assert shown_to_operator == ["+919800000001"]
    assert [str(entry) for entry in shown_to_platform] == [
        "+919800000001 (do not call)",
        "+919800000002 (do not call)",
    ]
    platform_row = DoNotCall.objects.get(merchant=None)
    assert (
        login(operator)
        .get(reverse("admin:leads_donotcall_change", args=[platform_row.pk]))
        .status_code
        == 302
    )


def test_merchant_admins_remove_numbers_with_the_delete_action_and_operators_may_not(
    login: Login, member_of_acme: Member, tenants: Tenants
) -> None:
    keep = DoNotCall.objects.create(merchant=tenants.acme, phone="+919800000001")
    drop = DoNotCall.objects.create(merchant=tenants.acme, phone="+919800000002")
    delete = {"action": "delete_selected", "_selected_action": [drop.pk], "post": "yes"}

    login(member_of_acme(Role.OPERATOR)).post(DNC_LIST, delete)
    assert DoNotCall.objects.count() == 2
    login(member_of_acme(Role.MERCHANT_ADMIN)).post(DNC_LIST, delete)

    assert list(DoNotCall.objects.values_list("pk", flat=True)) == [keep.pk]


def test_merchant_admins_set_their_limits_and_operators_only_look(
    login: Login, member_of_acme: Member, make_member: Callable[..., User], tenants: Tenants
) -> None:
    limits = {
        "concurrent_calls": "20",
        "concurrent_calls_per_caller_number": "2",
        "calls_per_number_per_hour": "1",
    }
    operator = login(member_of_acme(Role.OPERATOR))
    assert operator.post(LIMITS_ADD, {"merchant": tenants.acme.pk, **limits}).status_code == 403

    merchant_admin = login(member_of_acme(Role.MERCHANT_ADMIN))
    platform_refused = merchant_admin.post(LIMITS_ADD, {"merchant": "", **limits})
    other_merchant = merchant_admin.post(LIMITS_ADD, {"merchant": tenants.globex.pk, **limits})
    merchant_admin.post(LIMITS_ADD, {"merchant": tenants.acme.pk, **limits})

    assert platform_refused.context["adminform"].form.errors == {
        "merchant": ["This field is required."]
    }
    assert "merchant" in other_merchant.context["adminform"].form.errors
    assert list(
        DispatchLimits.objects.values_list(
            "merchant__slug",
            "concurrent_calls",
            "concurrent_calls_per_caller_number",
            "calls_per_number_per_hour",
        )
    ) == [("acme", 20, 2, 1)]

    platform = login(make_member(Role.PLATFORM_ADMIN, None))
    platform.post(LIMITS_ADD, {"merchant": "", "concurrent_calls": "100"})
    assert DispatchLimits.objects.get(merchant=None).concurrent_calls == 100
