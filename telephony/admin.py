"""Daily rooms in the admin: read-only, scoped to the operator's merchants like calls.

The pool's beat task creates and retires rooms; an operator only looks (which room a session
used, how full each merchant's pool is, how often clients waited for an on-demand room).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from config.admin_scoping import MerchantScopedAdmin
from config.types import Resource
from telephony.providers.daily.models import DailyRoom


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
