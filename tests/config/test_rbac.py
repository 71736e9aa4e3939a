"""docs/rbac.md states the matrix the code enforces, and API keys follow it like people do."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from config.auth.principal import ApiKeyPrincipal
from config.models import Membership
from config.permissions import ROLE_GRANTS
from config.selectors import merchant_ids_allowing
from config.services import api_key_create
from config.types import Action, Resource
from tests.conftest import Tenants

Role = Membership.Role
_CELL = re.compile(r"`?([a-z_]+)`?")


def _doc_matrix() -> dict[str, dict[Resource, frozenset[Action]]]:
    text = (Path(settings.BASE_DIR) / "docs" / "rbac.md").read_text()
    section = text.split("## The matrix", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    roles = [_CELL.fullmatch(cell)[1] for cell in header[1:]]  # type: ignore[index]
    matrix: dict[str, dict[Resource, frozenset[Action]]] = {role: {} for role in roles}
    for line in rows[2:]:
        resource, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        for role, cell in zip(roles, cells, strict=True):
            actions = frozenset(
                Action(name.strip()) for name in cell.split(",") if name.strip() != "—"
            )
            if actions:
                matrix[role][Resource(resource.strip("`"))] = actions
    return matrix


def test_the_documented_matrix_is_the_enforced_one() -> None:
    documented = _doc_matrix()

    assert set(documented) == set(ROLE_GRANTS) == set(Role)
    for role, grants in ROLE_GRANTS.items():
        assert documented[role] == {res: acts for res, acts in grants.items() if acts}, role


def test_the_documented_matrix_covers_every_resource() -> None:
    text = (Path(settings.BASE_DIR) / "docs" / "rbac.md").read_text()

    for resource in Resource:
        assert f"| `{resource.value}` |" in text


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MERCHANT_ADMIN, Role.OPERATOR, Role.VIEWER])
def test_an_api_key_may_exactly_what_a_person_with_its_role_may(
    role: str, tenants: Tenants, member_of_acme: Callable[[str], User]
) -> None:
    person = member_of_acme(role)
    api_key, _ = api_key_create(merchant=tenants.acme, role=role, name="k")
    principal = ApiKeyPrincipal(api_key)

    for resource in Resource:
        for action in Action:
            expected = {tenants.acme.pk} if action in ROLE_GRANTS[role].get(resource, ()) else set()
            assert (
                merchant_ids_allowing(user=principal, resource=resource, action=action)
                == (merchant_ids_allowing(user=person, resource=resource, action=action))
                == expected
            ), (resource, action)
