"""Leads in the admin: read-only records, bulk cancel / dispatch now, CSV uploads with live progress.

Leads are written only by services (API pushes, imports, the dispatcher), so their pages are
read-only; the list's actions call the same services the API uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from calls.selectors import call_list_for_lead
from config.admin_scoping import MerchantScopedAdmin, adopt_saved
from config.exceptions import ApplicationError
from config.selectors import scope_queryset
from config.types import Action, Resource
from leads.campaigns import admin as campaign_admin  # noqa: F401  (registers CampaignAdmin)
from leads.dispatch import admin as dispatch_admin  # noqa: F401  (do-not-call, limits)
from leads.exceptions import LeadRequestTooLargeError, LeadValidationError
from leads.imports import lead_import_check, lead_import_start
from leads.models import Lead, LeadImport, LeadTransition
from leads.selectors import lead_import_errors
from leads.services import actor_label, lead_cancel, lead_dispatch_now
from templates_app.models import Template


class LeadTransitionInline(admin.TabularInline[LeadTransition, Lead]):
    model = LeadTransition
    fields = ["at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = ["at", "from_status", "to_status", "actor", "reason"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Shown only on a lead page, which the lead admin's scoping already allowed.
        return True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(MerchantScopedAdmin[Lead]):
    resource = Resource.LEAD
    list_display = [
        "id",
        "phone",
        "template",
        "status",
        "execution_mode",
        "attempts",
        "next_attempt_at",
        "last_disposition",
        "created_at",
    ]
    list_filter = [
        "status",
        "execution_mode",
        ("template", admin.RelatedOnlyFieldListFilter),
        ("merchant", admin.RelatedOnlyFieldListFilter),
        ("campaign", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    # Exact and prefix matches keep the search on the (merchant, phone) index.
    search_fields = ["=phone", "^phone", "=idempotency_key"]
    search_help_text = "Phone (E.164, e.g. +9198…) or idempotency key."
    list_select_related = ["template"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["cancel_selected", "dispatch_now_selected"]
    inlines = [LeadTransitionInline]
    readonly_fields = [
        *(field.name for field in Lead._meta.fields if field.name != "id"),
        "calls",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False

    @admin.display(description="Calls")
    def calls(self, lead: Lead) -> str:
        rows = [
            (
                reverse("admin:calls_call_change", args=[call.pk]),
                call.pk,
                call.get_status_display(),
                call.get_disposition_display() or "—",
                call.outcome or "—",
                call.created_at,
            )
            for call in call_list_for_lead(lead_id=lead.pk)
        ]
        if not rows:
            return "No calls yet."
        return format_html(
            "<table><tr><th>Call</th><th>Status</th><th>Disposition</th><th>Outcome</th>"
            "<th>Created</th></tr>{}</table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                rows,
            ),
        )

    def _each_changeable(
        self,
        request: HttpRequest,
        queryset: models.QuerySet[Lead],
        change: Callable[[Lead], Any],
        done: str,
    ) -> None:
        moved, refused = 0, []
        for lead in queryset:
            if not self._may(request, Action.CHANGE, lead):
                refused.append(f"#{lead.pk}: your role may not change it")
                continue
            try:
                change(lead)
            except ApplicationError as error:
                refused.append(f"#{lead.pk}: {error.message}")
            else:
                moved += 1
        self.message_user(request, f"{moved} lead(s) {done}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Cancel selected leads", permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: models.QuerySet[Lead]) -> None:
        actor = actor_label(request.user)
        self._each_changeable(
            request,
            queryset,
            lambda lead: lead_cancel(lead_id=lead.pk, actor=actor, reason="cancelled in admin"),
            "cancelled",
        )

    @admin.action(description="Dispatch selected leads now", permissions=["change"])
    def dispatch_now_selected(self, request: HttpRequest, queryset: models.QuerySet[Lead]) -> None:
        actor = actor_label(request.user)
        self._each_changeable(
            request,
            queryset,
            lambda lead: lead_dispatch_now(lead_id=lead.pk, actor=actor),
            "made due now",
        )


class LeadImportForm(ModelForm[LeadImport]):
    """The upload form: the same checks as the API, shown on the fields they concern."""

    user: Any = None

    class Meta:
        model = LeadImport
        fields = ["template", "execution_mode", "file"]
        help_texts = {
            "file": "CSV in UTF-8: a phone column and one column per template variable "
            "(optional time_zone, scheduled_at, webhook_url).",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        template, upload = data.get("template"), data.get("file")
        if template is None or upload is None:
            return data
        try:
            lead_import_check(
                user=self.user,
                file=upload,
                template=str(template.pk),
                merchant=None,
                execution_mode=data.get("execution_mode", ""),
            )
        except LeadRequestTooLargeError as error:
            self.add_error("file", error.message)
        except LeadValidationError as error:
            for field, problems in error.problems.items():
                target = field if field in self.fields else None
                for problem in problems:
                    self.add_error(target, problem.message)
        return data


@admin.register(LeadImport)
class LeadImportAdmin(MerchantScopedAdmin[LeadImport]):
    resource = Resource.LEAD
    form = LeadImportForm
    list_display = ["id", "original_name", "template", "status", "progress", "created_at"]
    list_filter = ["status", ("template", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["template"]
    ordering = ["-created_at"]
    readonly_fields = [
        "merchant",
        "template",
        "execution_mode",
        "original_name",
        "status",
        "error",
        "progress",
        "total_rows",
        "processed_rows",
        "ok_rows",
        "failed_rows",
        "created_by",
        "started_at",
        "finished_at",
        "row_errors",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: LeadImport | None = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: LeadImport | None = None) -> Any:
        return self.readonly_fields if obj is not None else ["template", "execution_mode", "file"]

    def has_change_permission(self, request: HttpRequest, obj: LeadImport | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LeadImport | None = None) -> bool:
        return False

    def get_form(
        self,
        request: HttpRequest,
        obj: LeadImport | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[LeadImportForm]:
        form: type[LeadImportForm] = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[assignment]
        return type("LeadImportFormFor", (form,), {"user": request.user})

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "template":
            kwargs["queryset"] = scope_queryset(
                Template.objects.filter(is_active=True).select_related("merchant"),
                user=request.user,
                resource=Resource.LEAD,
                action=Action.ADD,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: LeadImport, form: ModelForm[LeadImport], change: bool
    ) -> None:
        saved = lead_import_start(
            user=request.user,
            file=form.cleaned_data["file"],
            template=str(form.cleaned_data["template"].pk),
            merchant=None,
            execution_mode=form.cleaned_data["execution_mode"],
        )
        adopt_saved(obj, saved)

    @admin.display(description="Row errors (first 200)")
    def row_errors(self, lead_import: LeadImport) -> str:
        # A 100,000-row file can fail every row; the page shows the first ones.
        errors = lead_import_errors(lead_import=lead_import, limit=200)
        if not errors:
            return "None."
        return format_html(
            "<table><tr><th>Row</th><th>Field</th><th>Reason</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((error.row, error.field, error.reason) for error in errors),
            ),
        )

    @admin.display(description="Progress")
    def progress(self, lead_import: LeadImport) -> str:
        url = reverse("admin:leads_leadimport_progress", args=[lead_import.pk])
        return format_html(
            '<progress data-progress-url="{}" max="{}" value="{}"></progress> '
            '<span data-progress-text="{}">{}</span>',
            url,
            lead_import.total_rows or 1,
            lead_import.processed_rows,
            url,
            _progress_text(lead_import),
        )

    def get_urls(self) -> list[URLPattern]:
        progress = path(
            "<int:import_id>/progress/",
            self.admin_site.admin_view(self.progress_json),
            name="leads_leadimport_progress",
        )
        return [progress, *super().get_urls()]

    def progress_json(self, request: HttpRequest, import_id: int) -> JsonResponse:
        """What the progress bars poll every second while an import runs."""
        lead_import = get_object_or_404(self.get_queryset(request), pk=import_id)
        return JsonResponse(
            {
                "status": lead_import.status,
                "total_rows": lead_import.total_rows,
                "processed_rows": lead_import.processed_rows,
                "ok_rows": lead_import.ok_rows,
                "failed_rows": lead_import.failed_rows,
                "text": _progress_text(lead_import),
            }
        )

    class Media:
        js = ["leads/import_progress.js"]


def _progress_text(lead_import: LeadImport) -> str:
    total = "?" if lead_import.total_rows is None else lead_import.total_rows
    return (
        f"{lead_import.get_status_display()}: {lead_import.processed_rows} / {total} rows, "
        f"{lead_import.ok_rows} imported, {lead_import.failed_rows} failed"
    )
