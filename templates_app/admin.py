from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from config.admin_scoping import MerchantScopedAdmin, adopt_saved
from config.exceptions import ApplicationError
from config.types import Action, Resource
from templates_app.diff import definition_diff
from templates_app.exceptions import TemplateValidationError
from templates_app.forms import TemplateForm
from templates_app.graph import definition_svg
from templates_app.models import Template, TemplateVersion
from templates_app.playground.views import playground_page, playground_turn
from templates_app.selectors import (
    template_version_draft,
    template_version_previous,
    template_version_published,
)
from templates_app.services import (
    template_clone,
    template_create,
    template_save_draft,
    template_set_secrets,
    template_update,
    template_version_archive,
    template_version_edit,
    template_version_publish,
)


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the admin only serves signed-in staff
    return request.user


@admin.register(Template)
class TemplateAdmin(MerchantScopedAdmin[Template]):
    resource = Resource.TEMPLATE
    form = TemplateForm
    list_display = [
        "name",
        "slug",
        "merchant",
        "live_version",
        "has_draft",
        "is_active",
        "updated_at",
    ]
    list_filter = [("merchant", admin.RelatedOnlyFieldListFilter), "is_active"]
    search_fields = ["name", "slug", "merchant__name"]
    autocomplete_fields = ["merchant"]
    list_select_related = ["merchant"]
    change_form_template = "admin/templates_app/template/change_form.html"
    actions = ["clone_selected"]

    @admin.display(description="published")
    def live_version(self, obj: Template) -> str:
        version = template_version_published(template=obj)
        return f"v{version.number}" if version else "—"

    @admin.display(description="draft", boolean=True)
    def has_draft(self, obj: Template) -> bool:
        return template_version_draft(template=obj) is not None

    def get_readonly_fields(self, request: HttpRequest, obj: Template | None = None) -> list[str]:
        # Leads name templates by slug; changing it would strand them.
        return ["merchant", "slug", "versions_table"] if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Template | None = None) -> tuple[str, ...]:
        fields = (
            "merchant",
            "slug",
            "name",
            "description",
            "is_active",
            "definition",
            "keep_unfinished",
            "secrets",
        )
        return (*fields, "versions_table") if obj is not None else fields

    @admin.display(description="versions")
    def versions_table(self, obj: Template) -> str:
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">v{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:templates_app_templateversion_change", args=[version.pk]),
                    version.number,
                    version.get_status_display(),
                    version.note or "",
                    version.published_at or version.created_at,
                )
                for version in obj.versions.order_by("-number")
            ),
        )
        return format_html('<table class="breeze-versions"><tbody>{}</tbody></table>', rows)

    def save_model(
        self, request: HttpRequest, obj: Template, form: ModelForm[Template], change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            template_update(
                template=obj, name=obj.name, description=obj.description, is_active=obj.is_active
            )
            template_save_draft(
                template=obj, definition=data["definition"], created_by=_actor(request)
            )
        else:
            saved = template_create(
                merchant=obj.merchant,
                slug=obj.slug,
                name=obj.name,
                description=obj.description,
                definition=data["definition"],
                created_by=_actor(request),
            )
            adopt_saved(obj, saved)
        if data.get("secrets") is not None:
            template_set_secrets(template=obj, secrets=data["secrets"])
        for warning in getattr(form, "report_warnings", []):
            messages.warning(request, f"Warning {warning}")
        if "_publish" in request.POST:
            self._publish(request, obj)

    def _publish(self, request: HttpRequest, template: Template) -> None:
        draft = template_version_draft(template=template)
        if draft is None:
            messages.info(request, "There is no draft to publish.")
            return
        try:
            version = template_version_publish(version=draft)
        except TemplateValidationError as error:
            for issue in error.issues:
                messages.error(request, f"Not published. {issue.path}: {issue.message}")
            return
        messages.success(request, f"Published v{version.number}.")

    @admin.action(description="Clone selected templates", permissions=["add"])
    def clone_selected(self, request: HttpRequest, queryset: Any) -> None:
        for template in queryset:
            clone = template_clone(
                template=template,
                slug=f"{template.slug}-copy-{Template.objects.filter(slug__startswith=template.slug).count()}",
                name=f"{template.name} (copy)",
                created_by=_actor(request),
            )
            messages.success(request, f"Cloned {template.name} as {clone.slug}.")

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:object_id>/playground/",
                self.admin_site.admin_view(self.playground_view),
                name="templates_app_template_playground",
            ),
            path(
                "<int:object_id>/playground/turn/",
                self.admin_site.admin_view(self.playground_turn_view),
                name="templates_app_template_playground_turn",
            ),
        ]
        return custom + super().get_urls()

    def _playground_template(self, request: HttpRequest, object_id: int) -> Template:
        template = get_object_or_404(
            self.get_queryset(request).select_related("merchant"), pk=object_id
        )
        if not self.has_view_permission(request, template):
            raise PermissionDenied
        return template

    def playground_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        template = self._playground_template(request, object_id)
        return playground_page(
            request, template=template, admin_context=self.admin_site.each_context(request)
        )

    def playground_turn_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        return playground_turn(request, template=self._playground_template(request, object_id))


@admin.register(TemplateVersion)
class TemplateVersionAdmin(MerchantScopedAdmin[TemplateVersion]):
    resource = Resource.TEMPLATE
    merchant_field = "template__merchant"
    list_display = [
        "__str__",
        "template",
        "number",
        "status",
        "created_by",
        "created_at",
        "published_at",
    ]
    list_filter = ["status", ("template__merchant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["template__name", "template__slug", "note"]
    list_select_related = ["template", "template__merchant", "created_by"]
    readonly_fields = (
        "template",
        "number",
        "status",
        "note",
        "created_by",
        "created_at",
        "published_at",
        "graph",
        "changes",
        "definition_json",
    )
    fields = readonly_fields
    change_form_template = "admin/templates_app/templateversion/change_form.html"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="graph")
    def graph(self, obj: TemplateVersion) -> str:
        return mark_safe(f'<div class="breeze-graph-wrap">{definition_svg(obj.definition)}</div>')  # noqa: S308 - escaped in definition_svg

    @admin.display(description="changes from the previous version")
    def changes(self, obj: TemplateVersion) -> str:
        previous = template_version_previous(version=obj)
        if previous is None:
            return "The first version."
        lines = definition_diff(
            previous.definition,
            obj.definition,
            from_label=f"v{previous.number}",
            to_label=f"v{obj.number}",
        )
        if not lines:
            return "No changes."
        rows = format_html_join_lines(lines)
        return mark_safe(f'<pre class="breeze-diff">{rows}</pre>')  # noqa: S308 - escaped per line

    @admin.display(description="definition")
    def definition_json(self, obj: TemplateVersion) -> str:
        import json

        return format_html(
            '<pre class="breeze-json-view">{}</pre>',
            json.dumps(obj.definition, indent=2, ensure_ascii=False),
        )

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                f"<int:object_id>/{verb}/",
                self.admin_site.admin_view(self.version_action),
                {"verb": verb},
                name=f"templates_app_templateversion_{verb}",
            )
            for verb in ("publish", "archive", "edit")
        ]
        return custom + super().get_urls()

    def version_action(self, request: HttpRequest, object_id: int, verb: str) -> HttpResponse:
        version = get_object_or_404(self.get_queryset(request), pk=object_id)
        change_url = reverse("admin:templates_app_templateversion_change", args=[version.pk])
        if request.method != "POST" or not self._may(request, Action.CHANGE, version):
            return HttpResponse(status=403 if request.method == "POST" else 405)
        try:
            if verb == "publish":
                template_version_publish(version=version)
                messages.success(request, f"Published v{version.number}.")
            elif verb == "archive":
                template_version_archive(version=version)
                messages.success(request, f"Archived v{version.number}.")
            else:
                draft = template_version_edit(version=version, created_by=_actor(request))
                messages.success(
                    request, f"Draft v{draft.number} now holds v{version.number}'s definition."
                )
                return HttpResponseRedirect(
                    reverse("admin:templates_app_template_change", args=[version.template_id])
                )
        except TemplateValidationError as error:
            for issue in error.issues:
                messages.error(request, f"Not published. {issue.path}: {issue.message}")
        except ApplicationError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(change_url)


def format_html_join_lines(lines: list[tuple[str, str]]) -> str:
    return "".join(
        format_html('<span class="diff-{}">{}</span>\n', kind, line) for kind, line in lines
    )
