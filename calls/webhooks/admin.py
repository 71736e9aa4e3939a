"""Admin for webhook endpoints (secrets shown once) and deliveries (attempts, replay)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from calls.webhooks.events import EventType
from calls.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from calls.webhooks.services import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from config.admin_scoping import MerchantScopedAdmin, adopt_saved
from config.selectors import user_may
from config.types import Action, Resource

_EDITABLE = ["url", "description", "event_types", "is_active", "is_default"]


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    event_types = forms.MultipleChoiceField(
        choices=[(t.value, t.value) for t in EventType],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["merchant", *_EDITABLE]


def _show_secret(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> None:
    messages.warning(
        request,
        format_html(
            "Signing secret for {}: <code>{}</code> — copy it now, it is not shown again.",
            endpoint.url,
            secret,
        ),
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(MerchantScopedAdmin[WebhookEndpoint]):
    resource = Resource.WEBHOOK
    form = WebhookEndpointForm
    list_display = [
        "url",
        "merchant",
        "is_active",
        "is_default",
        "subscribed",
        "circuit",
        "updated_at",
    ]
    list_filter = ["is_active", ("merchant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["url", "description"]
    list_select_related = ["merchant"]
    readonly_fields = [
        "circuit",
        "consecutive_failures",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    ]
    actions = ["rotate_secret"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The merchant is chosen once; moving an endpoint would move its deliveries' history.
        return [*self.readonly_fields, "merchant"] if obj is not None else self.readonly_fields

    @admin.display(description="events")
    def subscribed(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types) or "all"

    @admin.display(description="circuit")
    def circuit(self, endpoint: WebhookEndpoint) -> str:
        until = endpoint.circuit_open_until
        if until is None:
            return "closed"
        state = "open" if until > timezone.now() else "probing"
        return f"{state} until {until:%Y-%m-%d %H:%M:%S} ({endpoint.consecutive_failures} failures)"

    def save_model(
        self,
        request: HttpRequest,
        obj: WebhookEndpoint,
        form: ModelForm[WebhookEndpoint],
        change: bool,
    ) -> None:
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            webhook_endpoint_update(endpoint=obj, **changed)
            return
        fields = {name: form.cleaned_data[name] for name in _EDITABLE}
        # An unticked box leaves the choice to the service: a merchant's first is the default.
        fields["is_default"] = fields["is_default"] or None
        saved, secret = webhook_endpoint_create(
            merchant_id=form.cleaned_data["merchant"].pk, **fields
        )
        adopt_saved(obj, saved)
        _show_secret(request, saved, secret)

    @admin.action(description="Rotate the signing secret (the old one stays valid 24 h)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            if self.has_change_permission(request, endpoint):
                _show_secret(request, endpoint, webhook_endpoint_rotate_secret(endpoint=endpoint))


class WebhookAttemptInline(admin.TabularInline[WebhookAttempt, WebhookDelivery]):
    model = WebhookAttempt
    fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The delivery's own (scoped) admin already decided who sees it; attempts follow.
        merchant_id = obj.merchant_id if isinstance(obj, WebhookDelivery) else None
        return user_may(
            user=request.user,
            resource=Resource.WEBHOOK,
            action=Action.VIEW,
            merchant_id=merchant_id,
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(MerchantScopedAdmin[WebhookDelivery]):
    """What was sent where and how each attempt went; replay sends the same event again."""

    resource = Resource.WEBHOOK
    list_display = [
        "id",
        "event_type",
        "target",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    ]
    list_filter = [
        "status",
        "event_type",
        ("endpoint", admin.RelatedOnlyFieldListFilter),
        ("merchant", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["=event_id", "target_url", "endpoint__url"]
    list_select_related = ["endpoint", "merchant"]
    date_hierarchy = "created_at"
    fields = (
        "merchant",
        "endpoint",
        "target_url",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "delivered_at",
        "replay_of",
        "payload",
    )
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.display(description="target")
    def target(self, delivery: WebhookDelivery) -> str:
        if delivery.endpoint is not None:
            return delivery.endpoint.url
        return f"{delivery.target_url} (lead)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Replay (deliver the same events again)")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        allowed = [d for d in queryset if self.has_change_permission(request, d)]
        replays = webhook_delivery_replay(deliveries=allowed)
        messages.success(request, f"{len(replays)} deliveries queued again.")
