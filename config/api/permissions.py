"""Role checks for API views; row visibility is the scoped queryset's job (404 before 403)."""

from __future__ import annotations

from typing import ClassVar

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from config.selectors import user_may
from config.types import Action, Resource

_ACTION_BY_METHOD = {"POST": Action.ADD, "PUT": Action.CHANGE, "PATCH": Action.CHANGE}


class RoleAllows(BasePermission):
    """The caller's role allows the view's action on its resource in at least one merchant."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user.is_authenticated:
            return False
        assert isinstance(view, ResourceView)
        return user_may(user=request.user, resource=view.resource, action=view.action_for(request))


class ResourceView(APIView):
    """An API view over one merchant-owned resource.

    `action`, when a view sets it, names what its mutating methods do (a `POST …/revoke`
    changes a row rather than adding one); otherwise the method decides. Safe methods always
    view.
    """

    permission_classes = [RoleAllows]
    resource: ClassVar[Resource]
    # Declared without a default: drf-spectacular reads a view's `action` as a viewset action
    # name and cannot handle None.
    action: ClassVar[Action]

    def action_for(self, request: Request) -> Action:
        if request.method in SAFE_METHODS:
            return Action.VIEW
        declared: Action | None = getattr(self, "action", None)
        return declared or _ACTION_BY_METHOD.get(request.method or "", Action.DELETE)

    def check_merchant_action(self, request: Request, *, merchant_id: int) -> None:
        """403 when the caller sees the merchant's row but their role there lacks the action."""
        if not user_may(
            user=request.user,
            resource=self.resource,
            action=self.action_for(request),
            merchant_id=merchant_id,
        ):
            raise exceptions.PermissionDenied()
