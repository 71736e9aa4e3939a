from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command

from config.exceptions import ApplicationError
from config.models import Membership, Merchant
from config.selectors import merchant_list, scope_queryset, user_may
from config.services import membership_create, merchant_create
from config.types import Action, Resource
from tests.conftest import Tenants
from tests.factories import UserFactory

Role = Membership.Role


def test_platform_admin_membership_makes_a_superuser(db: None) -> None:
    user = UserFactory.create()

    membership_create(user=user, role=Role.PLATFORM_ADMIN)

    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (True, True)


def test_merchant_role_needs_a_merchant_and_platform_admin_has_none(tenants: Tenants) -> None:
    user = UserFactory.create()

    with pytest.raises(ValidationError):
        membership_create(user=user, role=Role.OPERATOR)
    with pytest.raises(ValidationError):
        membership_create(user=user, role=Role.PLATFORM_ADMIN, merchant=tenants.acme)
    assert not Membership.objects.exists()


def test_one_role_per_user_and_merchant(tenants: Tenants) -> None:
    user = UserFactory.create()
    membership_create(user=user, merchant=tenants.acme, role=Role.VIEWER)

    with pytest.raises(ValidationError):
        membership_create(user=user, merchant=tenants.acme, role=Role.OPERATOR)

    assert Membership.objects.get(user=user).role == Role.VIEWER


def test_granting_is_checked_against_the_granters_own_role(
    tenants: Tenants, member_of_acme: Callable[[str], User]
) -> None:
    operator = member_of_acme(Role.OPERATOR)
    merchant_admin = member_of_acme(Role.MERCHANT_ADMIN)
    newcomer = UserFactory.create()

    with pytest.raises(ApplicationError) as by_operator:
        membership_create(
            user=newcomer, merchant=tenants.acme, role=Role.VIEWER, granted_by=operator
        )
    with pytest.raises(ApplicationError) as to_platform:
        membership_create(user=newcomer, role=Role.PLATFORM_ADMIN, granted_by=merchant_admin)
    with pytest.raises(ApplicationError) as elsewhere:
        membership_create(
            user=newcomer, merchant=tenants.globex, role=Role.VIEWER, granted_by=merchant_admin
        )
    granted = membership_create(
        user=newcomer, merchant=tenants.acme, role=Role.VIEWER, granted_by=merchant_admin
    )

    assert (by_operator.value.field, to_platform.value.field, elsewhere.value.field) == (
        "merchant",
        "role",
        "merchant",
    )
    assert list(Membership.objects.filter(user=newcomer)) == [granted]


def test_scope_queryset_follows_role_per_merchant(tenants: Tenants) -> None:
    user = UserFactory.create()
    membership_create(user=user, merchant=tenants.acme, role=Role.MERCHANT_ADMIN)
    membership_create(user=user, merchant=tenants.globex, role=Role.VIEWER)
    merchants = Merchant.objects.order_by("slug")

    viewable = scope_queryset(merchants, user=user, resource=Resource.MERCHANT, merchant_field="pk")
    changeable = scope_queryset(
        merchants, user=user, resource=Resource.MERCHANT, merchant_field="pk", action=Action.CHANGE
    )

    assert [m.slug for m in viewable] == ["acme", "globex"]
    assert [m.slug for m in changeable] == ["acme"]
    assert user_may(
        user=user, resource=Resource.CREDENTIAL, action=Action.ADD, merchant_id=tenants.acme.pk
    )
    assert not user_may(
        user=user, resource=Resource.CREDENTIAL, action=Action.ADD, merchant_id=tenants.globex.pk
    )


def test_permission_checks_read_memberships_once_per_user_object(
    tenants: Tenants, django_assert_num_queries: Any
) -> None:
    user = UserFactory.create()
    membership_create(user=user, merchant=tenants.acme, role=Role.OPERATOR)

    with django_assert_num_queries(1):
        answers = [
            user_may(user=user, resource=Resource.LEAD, action=action, merchant_id=tenants.acme.pk)
            for action in Action
        ]
    membership_create(user=user, merchant=tenants.globex, role=Role.VIEWER)

    assert answers == [True, True, True, False]
    assert user_may(
        user=user, resource=Resource.LEAD, action=Action.VIEW, merchant_id=tenants.globex.pk
    )


def test_inactive_or_anonymous_users_see_nothing(tenants: Tenants) -> None:
    from django.contrib.auth.models import AnonymousUser

    user = UserFactory.create()
    membership_create(user=user, merchant=tenants.acme, role=Role.MERCHANT_ADMIN)
    user.is_active = False
    user.save()

    assert list(merchant_list(user=user)) == []
    assert list(merchant_list(user=AnonymousUser())) == []


def test_merchant_create_validates_time_zone(db: None) -> None:
    with pytest.raises(ValidationError) as raised:
        merchant_create(name="Initech", slug="initech", time_zone="Nowhere/Land")

    assert list(raised.value.message_dict) == ["time_zone"]


def test_setup_demo_is_idempotent(db: None, settings: LazySettings) -> None:
    settings.BREEZE_ADMIN_PASSWORD = "demo-pass-123"
    output = io.StringIO()

    call_command("setup_demo", stdout=output)
    call_command("setup_demo", stdout=output)

    assert sorted(Merchant.objects.values_list("slug", flat=True)) == ["acme", "globex"]
    assert sorted(User.objects.values_list("username", flat=True)) == [
        "acme-admin",
        "acme-operator",
        "admin",
        "globex-viewer",
    ]
    assert Membership.objects.count() == 3
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("demo-pass-123")
    assert "login: admin   password: demo-pass-123" in output.getvalue()
