"""Daily rooms in the admin: read-only, scoped to the operator's merchants like calls.

The pool's beat task creates and retires rooms; an operator only looks (which room a session
used, how full each merchant's pool is, how often clients waited for an on-demand room).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey
from django.forms import ModelChoiceField
from django.http import HttpRequest

from config.admin_scoping import MerchantScopedAdmin
from config.types import Resource
from telephony.inbound.models import InboundRoute
from telephony.inbound.services import inbound_route_save
from telephony.providers.daily.models import DailyRoom
from templates_app.models import Template


@admin.register(DailyRoom)
class DailyRoomAdmin(MerchantScopedAdmin[DailyRoom]):
    resource = Resource.CALL
    list_display = ["name", "merchant", "status", "origin", "call", "expires_at", "created_at"]
    list_filter = ["status", "origin", "merchant"]
    list_select_related = ["merchant", "call"]
    search_fields = ["name"]
    raw_id_fields = ["call"]
    readonly_fields = [
        "merchant",
        "name",
        "url",
        "status",
        "origin",
        "call",
        "expires_at",
        "assigned_at",
        "is_recording",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DailyRoom | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DailyRoom | None = None) -> bool:
        return False


@admin.register(InboundRoute)
class InboundRouteAdmin(MerchantScopedAdmin[InboundRoute]):
    """Numbers whose incoming calls a template answers.

    The provider calls the number's Voice URL (Twilio) or application answer URL (Plivo);
    docs/telephony.md says which.
    """

    resource = Resource.TEMPLATE
    list_display = ["number", "provider", "merchant", "template", "is_active", "updated_at"]
    list_filter = ["provider", "is_active", ("merchant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["merchant", "template"]
    search_fields = ["number", "template__name"]
    fields = ["merchant", "provider", "number", "template", "variables", "is_active"]

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.related_model is Template:
            kwargs["queryset"] = Template.objects.filter(
                merchant__in=self.writable_merchants(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: InboundRoute, form: Any, change: bool) -> None:
        inbound_route_save(route=obj)
