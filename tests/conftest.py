from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from config.models import Membership, Merchant
from config.services import membership_create
from tests.factories import MerchantFactory, UserFactory

Role = Membership.Role


@dataclass(frozen=True)
class Tenants:
    acme: Merchant
    globex: Merchant


@pytest.fixture
def tenants(db: None) -> Tenants:
    return Tenants(
        acme=MerchantFactory.create(name="Acme Retail", slug="acme"),
        globex=MerchantFactory.create(
            name="Globex Stores", slug="globex", time_zone="America/New_York"
        ),
    )


@pytest.fixture
def make_member(tenants: Tenants) -> Callable[[str, Merchant | None], User]:
    def make(role: str, merchant: Merchant | None) -> User:
        user = UserFactory.create(username=f"{role}-{merchant.slug if merchant else 'platform'}")
        membership_create(user=user, merchant=merchant, role=role)
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def member_of_acme(
    tenants: Tenants, make_member: Callable[[str, Merchant | None], User]
) -> Callable[[str], User]:
    """A user holding `role` in Acme (or platform-wide for platform admins)."""

    def make(role: str) -> User:
        return make_member(role, None if role == Role.PLATFORM_ADMIN else tenants.acme)

    return make


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    def do(user: User) -> Client:
        client.force_login(user)
        return client

    return do


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
