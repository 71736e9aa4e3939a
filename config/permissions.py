"""The role → permission matrix: the one place that says who may do what (docs/rbac.md)."""

from __future__ import annotations

from config.models import Membership
from config.types import Action, Resource

Role = Membership.Role

_ALL = frozenset(Action)
_VIEW = frozenset({Action.VIEW})
_WORK = frozenset({Action.VIEW, Action.ADD, Action.CHANGE})

ROLE_GRANTS: dict[str, dict[Resource, frozenset[Action]]] = {
    Role.PLATFORM_ADMIN: dict.fromkeys(Resource, _ALL),
    Role.MERCHANT_ADMIN: {
        Resource.MERCHANT: frozenset({Action.VIEW, Action.CHANGE}),
        Resource.MEMBERSHIP: _ALL,
        Resource.CREDENTIAL: _ALL,
        Resource.TEMPLATE: _ALL,
        Resource.LEAD: _ALL,
        Resource.CALL: frozenset({Action.VIEW, Action.CHANGE}),
        Resource.CAMPAIGN: _ALL,
        Resource.WEBHOOK: _ALL,
        Resource.API_KEY: _ALL,
    },
    Role.OPERATOR: {
        Resource.MERCHANT: _VIEW,
        Resource.MEMBERSHIP: _VIEW,
        Resource.TEMPLATE: _WORK,
        Resource.LEAD: _WORK,
        Resource.CALL: frozenset({Action.VIEW, Action.CHANGE}),
        Resource.CAMPAIGN: _WORK,
        Resource.WEBHOOK: _VIEW,
    },
    Role.VIEWER: {
        Resource.MERCHANT: _VIEW,
        Resource.TEMPLATE: _VIEW,
        Resource.LEAD: _VIEW,
        Resource.CALL: _VIEW,
        Resource.CAMPAIGN: _VIEW,
        Resource.WEBHOOK: _VIEW,
    },
}


def role_allows(role: str, resource: Resource, action: Action) -> bool:
    return action in ROLE_GRANTS.get(role, {}).get(resource, frozenset())
