"""Tenant isolation in the admin: each role, two merchants, every admin surface."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from config.models import Membership, Merchant, ProviderCredential
from config.services import membership_create, provider_credential_create
from tests.conftest import Tenants
from tests.factories import MerchantFactory

Role = Membership.Role
MERCHANT_ROLES = [Role.MERCHANT_ADMIN, Role.OPERATOR, Role.VIEWER]
ALL_ROLES = [Role.PLATFORM_ADMIN, *MERCHANT_ROLES]


@pytest.fixture
def credentials(tenants: Tenants) -> dict[str, ProviderCredential]:
    return {
        merchant.slug: provider_credential_create(
            merchant=merchant,
            provider="twilio",
            secrets={"account_sid": f"AC-{merchant.slug}", "auth_token": f"token-{merchant.slug}"},
        )
        for merchant in (tenants.acme, tenants.globex)
    }


def _admin_url(name: str, *args: object) -> str:
    return reverse(f"admin:config_{name}", args=args)


@pytest.mark.parametrize(
    ("_case", "role", "expected"),
    [
        ("platform admin sees all", Role.PLATFORM_ADMIN, ["Acme Retail", "Globex Stores"]),
        ("merchant admin sees own", Role.MERCHANT_ADMIN, ["Acme Retail"]),
        ("operator sees own", Role.OPERATOR, ["Acme Retail"]),
        ("viewer sees own", Role.VIEWER, ["Acme Retail"]),
    ],
)
def test_merchant_changelist_lists_only_permitted_merchants(
    _case: str,
    role: str,
    expected: list[str],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(role))

    response = client.get(_admin_url("merchant_changelist"))

    assert response.status_code == 200
    shown = [merchant.name for merchant in response.context["cl"].result_list]
    assert shown == expected
    assert ("Globex Stores" in response.content.decode()) is (role == Role.PLATFORM_ADMIN)


@pytest.mark.parametrize(
    ("_case", "role", "expected_status", "expected_slugs"),
    [
        ("platform admin sees all", Role.PLATFORM_ADMIN, 200, ["acme", "globex"]),
        ("merchant admin sees own", Role.MERCHANT_ADMIN, 200, ["acme"]),
        ("operator may not see credentials", Role.OPERATOR, 403, None),
        ("viewer may not see credentials", Role.VIEWER, 403, None),
    ],
)
def test_credential_changelist_is_scoped(
    _case: str,
    role: str,
    expected_status: int,
    expected_slugs: list[str] | None,
    credentials: dict[str, ProviderCredential],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(role))

    response = client.get(_admin_url("providercredential_changelist"))

    assert response.status_code == expected_status
    if expected_slugs is not None:
        assert [row.merchant.slug for row in response.context["cl"].result_list] == expected_slugs


@pytest.mark.parametrize("role", MERCHANT_ROLES)
def test_other_merchants_detail_pages_do_not_exist(
    role: str,
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(role))

    for url in (
        _admin_url("merchant_change", tenants.globex.pk),
        _admin_url("merchant_history", tenants.globex.pk),
    ):
        response = client.get(url)
        # Django's admin redirects to the index with "doesn't exist" for rows outside the queryset.
        assert response.status_code == 302, url
        assert response["Location"] == reverse("admin:index")
    # Deleting merchants is a platform action, refused before the row is even looked up.
    assert client.get(_admin_url("merchant_delete", tenants.globex.pk)).status_code == 403


@pytest.mark.parametrize("role", MERCHANT_ROLES)
def test_other_merchants_rows_cannot_be_changed_or_deleted(
    role: str,
    tenants: Tenants,
    credentials: dict[str, ProviderCredential],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(role))

    change = client.post(
        _admin_url("merchant_change", tenants.globex.pk),
        {"name": "Hijacked", "slug": "globex", "time_zone": "UTC", "is_active": "on"},
    )
    delete_merchant = client.post(_admin_url("merchant_delete", tenants.globex.pk), {"post": "yes"})
    delete_credential = client.post(
        _admin_url("providercredential_delete", credentials["globex"].pk), {"post": "yes"}
    )

    # A merchant admin may change merchants, just not this one; the others may change none.
    assert change.status_code == (302 if role == Role.MERCHANT_ADMIN else 403)
    assert delete_merchant.status_code == 403
    # A merchant admin may delete credentials, just not this one; the others may delete none.
    assert delete_credential.status_code == (302 if role == Role.MERCHANT_ADMIN else 403)
    assert Merchant.objects.get(pk=tenants.globex.pk).name == "Globex Stores"
    assert ProviderCredential.objects.filter(pk=credentials["globex"].pk).exists()


@pytest.mark.parametrize(
    ("_case", "role", "expected_status", "expected_name"),
    [
        ("merchant admin may rename", Role.MERCHANT_ADMIN, 302, "Acme Renamed"),
        ("operator may only view", Role.OPERATOR, 403, "Acme Retail"),
        ("viewer may only view", Role.VIEWER, 403, "Acme Retail"),
    ],
)
def test_own_merchant_change_follows_role(
    _case: str,
    role: str,
    expected_status: int,
    expected_name: str,
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(role))

    view = client.get(_admin_url("merchant_change", tenants.acme.pk))
    response = client.post(
        _admin_url("merchant_change", tenants.acme.pk),
        {"name": "Acme Renamed", "slug": "acme", "time_zone": "Asia/Kolkata", "is_active": "on"},
    )

    assert view.status_code == 200
    assert response.status_code == expected_status
    assert Merchant.objects.get(pk=tenants.acme.pk).name == expected_name


@pytest.mark.parametrize("role", MERCHANT_ROLES)
def test_only_platform_admins_add_or_delete_merchants(
    role: str,
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(role))

    add = client.post(
        _admin_url("merchant_add"), {"name": "Initech", "slug": "initech", "time_zone": "UTC"}
    )
    delete = client.post(_admin_url("merchant_delete", tenants.acme.pk), {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert sorted(Merchant.objects.values_list("slug", flat=True)) == ["acme", "globex"]


def test_platform_admin_adds_merchant_through_the_admin(
    member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.PLATFORM_ADMIN))

    response = client.post(
        _admin_url("merchant_add"),
        {"name": "Initech", "slug": "initech", "time_zone": "Europe/Berlin"},
    )

    assert response.status_code == 302
    merchant = Merchant.objects.get(slug="initech")
    assert (merchant.name, merchant.time_zone, merchant.is_active) == (
        "Initech",
        "Europe/Berlin",
        False,
    )


def test_merchant_time_zone_must_be_iana(
    member_of_acme: Callable[[str], User], login: Callable[[User], Client]
) -> None:
    client = login(member_of_acme(Role.PLATFORM_ADMIN))

    response = client.post(
        _admin_url("merchant_add"),
        {"name": "Initech", "slug": "initech", "time_zone": "Mars/Olympus"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["time_zone"] == [
        "'Mars/Olympus' is not an IANA time zone (for example Asia/Kolkata)."
    ]
    assert not Merchant.objects.filter(slug="initech").exists()


@pytest.mark.parametrize(
    ("_case", "role", "expected"),
    [
        ("platform admin", Role.PLATFORM_ADMIN, ["Acme Retail", "Globex Stores"]),
        ("merchant admin", Role.MERCHANT_ADMIN, ["Acme Retail"]),
        ("operator", Role.OPERATOR, ["Acme Retail"]),
    ],
)
def test_merchant_autocomplete_is_scoped(
    _case: str,
    role: str,
    expected: list[str],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(role))

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "config", "model_name": "membership", "field_name": "merchant", "term": ""},
    )

    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == expected


def test_list_filter_offers_only_own_merchants(
    tenants: Tenants,
    credentials: dict[str, ProviderCredential],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    user = member_of_acme(Role.MERCHANT_ADMIN)
    initech = MerchantFactory.create(name="Initech", slug="initech")
    membership_create(user=user, merchant=initech, role=Role.OPERATOR)
    provider_credential_create(
        merchant=initech, provider="daily", secrets={"api_key": "daily-initech"}
    )
    client = login(user)

    response = client.get(_admin_url("membership_changelist"))

    merchant_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.field_path == "merchant"
    )
    assert [label for _, label in merchant_filter.lookup_choices] == ["Acme Retail", "Initech"]
    assert "Globex" not in response.content.decode()


def test_filtering_by_another_merchant_reveals_nothing(
    tenants: Tenants,
    credentials: dict[str, ProviderCredential],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    response = client.get(
        _admin_url("providercredential_changelist"), {"merchant__id__exact": tenants.globex.pk}
    )

    assert response.status_code == 200
    assert [row.merchant_id for row in response.context["cl"].result_list] == [tenants.acme.pk]
    assert "Globex" not in response.content.decode()


@pytest.mark.parametrize(
    ("_case", "role", "expected_status", "expected_count"),
    [
        ("merchant admin manages members", Role.MERCHANT_ADMIN, 200, 1),
        ("operator only views members", Role.OPERATOR, 200, 1),
        ("viewer does not see members", Role.VIEWER, 403, None),
    ],
)
def test_membership_changelist_is_scoped(
    _case: str,
    role: str,
    expected_status: int,
    expected_count: int | None,
    tenants: Tenants,
    make_member: Callable[[str, Merchant | None], User],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    make_member(Role.VIEWER, tenants.globex)
    make_member(Role.PLATFORM_ADMIN, None)
    client = login(member_of_acme(role))

    response = client.get(_admin_url("membership_changelist"))

    assert response.status_code == expected_status
    if expected_count is not None:
        rows = list(response.context["cl"].result_list)
        assert [(row.merchant_id, row.role) for row in rows] == [(tenants.acme.pk, role)]


def test_merchant_admin_cannot_grant_platform_admin_or_other_merchants(
    tenants: Tenants,
    make_member: Callable[[str, Merchant | None], User],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    colleague = make_member(Role.VIEWER, tenants.acme)
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    escalate = client.post(
        _admin_url("membership_add"),
        {"user": colleague.pk, "merchant": "", "role": "platform_admin"},
    )
    cross_tenant = client.post(
        _admin_url("membership_add"),
        {"user": colleague.pk, "merchant": tenants.globex.pk, "role": "operator"},
    )

    assert escalate.status_code == 200
    assert set(escalate.context["adminform"].form.errors) == {"merchant", "role"}
    assert cross_tenant.status_code == 200
    assert set(cross_tenant.context["adminform"].form.errors) == {"merchant"}
    assert Membership.objects.filter(user=colleague).count() == 1
    colleague.refresh_from_db()
    assert colleague.is_superuser is False


def test_merchant_admin_changes_a_members_role(
    tenants: Tenants,
    make_member: Callable[[str, Merchant | None], User],
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    colleague = make_member(Role.VIEWER, tenants.acme)
    membership = Membership.objects.get(user=colleague)
    client = login(member_of_acme(Role.MERCHANT_ADMIN))

    response = client.post(_admin_url("membership_change", membership.pk), {"role": "operator"})

    assert response.status_code == 302
    assert Membership.objects.get(pk=membership.pk).role == Role.OPERATOR
