"""Operators see their merchants' Daily rooms in the admin, read-only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from config.models import Membership
from telephony.providers.daily.models import DailyRoom
from tests.conftest import Tenants

LIST = "/admin/telephony/dailyroom/"


def _room(merchant_id: int, name: str) -> DailyRoom:
    return DailyRoom.objects.create(
        merchant_id=merchant_id,
        name=name,
        url=f"https://breeze-test.daily.co/{name}",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )


def test_an_operator_sees_only_their_merchants_rooms_and_cannot_change_them(
    tenants: Tenants,
    member_of_acme: Callable[[str], User],
    login: Callable[[User], Client],
) -> None:
    acme_room = _room(tenants.acme.pk, "breeze-acme")
    _room(tenants.globex.pk, "breeze-globex")
    client = login(member_of_acme(Membership.Role.OPERATOR))

    listing = client.get(LIST)
    foreign = DailyRoom.objects.get(name="breeze-globex")

    assert listing.status_code == 200
    assert b"breeze-acme" in listing.content
    assert b"breeze-globex" not in listing.content
    assert client.get(f"{LIST}{foreign.pk}/change/").status_code == 302
    assert client.get(f"{LIST}add/").status_code == 403
    page = client.get(f"{LIST}{acme_room.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
