"""The admin's dashboards page: filters and empty charts; dashboard.js fills them from the API."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from breeze.dashboard.api import DEFAULT_DAYS, MAX_DAYS
from config.selectors import merchant_list, user_is_platform_admin, user_may
from config.types import Action, Resource


def dashboard_page(request: HttpRequest) -> TemplateResponse:
    if not user_may(user=request.user, resource=Resource.CALL, action=Action.VIEW):
        raise PermissionDenied
    today = dt.datetime.now(dt.UTC).date()
    context = {
        **admin.site.each_context(request),
        "title": "Dashboards",
        "merchants": merchant_list(user=request.user).order_by("name"),
        "platform_wide": user_is_platform_admin(user=request.user),
        "date_from": (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "date_to": today.isoformat(),
        "max_days": MAX_DAYS,
        "data_url": reverse("dashboard"),
    }
    return TemplateResponse(request, "admin/breeze/dashboard.html", context)
