"""Campaigns in the admin: create one, start/pause/resume/stop it, and watch its progress live.

Every change goes through the campaign services: the add form calls `campaign_create`, and
the buttons and list actions call the lifecycle services. A campaign's page is otherwise
read-only; its progress block polls a small JSON view every two seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from config.admin_scoping import MerchantScopedAdmin, adopt_saved
from config.exceptions import ApplicationError
from config.selectors import scope_queryset
from config.types import Action, Resource
from leads.campaigns.exceptions import CampaignValidationError
from leads.campaigns.selectors import Progress, campaign_progress
from leads.campaigns.services import (
    WAITING,
    LeadFilter,
    campaign_check,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_start,
    campaign_stop,
)
from leads.models import Campaign, LeadImport
from leads.services import actor_label
from templates_app.models import Template

Status = Campaign.Status
LIMITS = ("calls_per_minute", "max_concurrency", "failure_threshold", "failure_window")
# What each button does, and the statuses it shows for.
VERBS: dict[str, tuple[Callable[..., Campaign], tuple[str, ...]]] = {
    "start": (campaign_start, (Status.DRAFT,)),
    "pause": (campaign_pause, (Status.RUNNING,)),
    "resume": (campaign_resume, (Status.PAUSED,)),
    "stop": (campaign_stop, (Status.DRAFT, Status.RUNNING, Status.PAUSED)),
}


class CampaignAddForm(forms.ModelForm[Campaign]):
    """Leads from a CSV import, or else the template's waiting leads matching the filter."""

    filter_status = forms.MultipleChoiceField(
        choices=[(status, status) for status in WAITING],
        initial=list(WAITING),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Lead status",
        help_text="Without an import: the template's leads in these statuses…",
    )
    created_after = forms.DateTimeField(required=False, help_text="…created at or after this…")
    created_before = forms.DateTimeField(required=False, help_text="…and before this.")

    class Meta:
        model = Campaign
        fields = ["name", "template", "lead_import", *LIMITS]
        help_texts = {
            "lead_import": "Take this import's leads (rows still being imported join too).",
            "calls_per_minute": "At most this many dials a minute, spread evenly.",
            "max_concurrency": "At most this many of its leads released or in a call at once.",
            "failure_threshold": "Pause when this share (0 to 1) of the last attempts failed…",
            "failure_window": "…counted over this many finished attempts.",
        }

    def lead_filter(self) -> LeadFilter | None:
        data = self.cleaned_data
        if data.get("lead_import") is not None:
            return None
        return LeadFilter(
            statuses=tuple(data.get("filter_status") or WAITING),
            created_after=data.get("created_after"),
            created_before=data.get("created_before"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        template: Template | None = data.get("template")
        if template is None or any(data.get(name) is None for name in LIMITS):
            return data
        try:
            campaign_check(
                merchant_id=template.merchant_id,
                template_id=template.pk,
                name=data.get("name", ""),
                lead_import=data.get("lead_import"),
                lead_filter=self.lead_filter(),
                limits={name: data[name] for name in LIMITS},
            )
        except CampaignValidationError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return data


@admin.register(Campaign)
class CampaignAdmin(MerchantScopedAdmin[Campaign]):
    resource = Resource.CAMPAIGN
    form = CampaignAddForm
    list_display = ["id", "name", "template", "status", "live_progress", "started_at"]
    list_filter = ["status", ("template", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["template"]
    search_fields = ["name"]
    ordering = ["-created_at"]
    actions = ["start_selected", "pause_selected", "resume_selected", "stop_selected"]
    shown: ClassVar[list[str]] = [
        "controls",
        "live_progress",
        "outcomes",
        "leads_link",
        "merchant",
        "template",
        "name",
        "status",
        "pause_reason",
        "lead_import",
        "lead_filter",
        *LIMITS,
        "created_by",
        "created_at",
        "started_at",
        "paused_at",
        "resumed_at",
        "stopped_at",
        "completed_at",
    ]

    def get_fields(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        if obj is None:
            return [
                "name",
                "template",
                "lead_import",
                "filter_status",
                "created_after",
                "created_before",
                *LIMITS,
            ]
        return self.shown

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        return self.shown if obj is not None else []

    # Campaigns change only through the lifecycle buttons and actions (services); their page
    # is read-only, and rows are kept for their leads' history.
    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return False

    def has_control_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return self._may(request, Action.CHANGE, obj)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "template":
            kwargs["queryset"] = scope_queryset(
                Template.objects.filter(is_active=True).select_related("merchant"),
                user=request.user,
                resource=Resource.CAMPAIGN,
                action=Action.ADD,
            )
        if db_field.name == "lead_import":
            kwargs["queryset"] = scope_queryset(
                LeadImport.objects.select_related("template"),
                user=request.user,
                resource=Resource.CAMPAIGN,
                action=Action.ADD,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: Campaign, form: CampaignAddForm, change: bool
    ) -> None:
        data = form.cleaned_data
        template: Template = data["template"]
        saved = campaign_create(
            merchant_id=template.merchant_id,
            template_id=template.pk,
            name=data["name"],
            created_by=actor_label(request.user),
            lead_import=data.get("lead_import"),
            lead_filter=form.lead_filter(),
            **{name: data[name] for name in LIMITS},
        )
        adopt_saved(obj, saved)

    @admin.display(description="Control")
    def controls(self, campaign: Campaign) -> str:
        # Buttons of the page's own form (it carries the CSRF token) posting to the verb's URL.
        buttons = [
            (reverse("admin:leads_campaign_control", args=[campaign.pk, verb]), verb.title())
            for verb, (_, statuses) in VERBS.items()
            if campaign.status in statuses
        ]
        if not buttons:
            return "Finished."
        return format_html_join(
            " ",
            '<button type="submit" class="button" formaction="{}">{}</button>',
            buttons,
        )

    @admin.display(description="Progress")
    def live_progress(self, campaign: Campaign) -> str:
        url = reverse("admin:leads_campaign_progress", args=[campaign.pk])
        return format_html(
            '<span data-campaign-progress="{}">{}</span>',
            url,
            progress_text(campaign, campaign_progress(campaign_id=campaign.pk)),
        )

    @admin.display(description="Outcomes")
    def outcomes(self, campaign: Campaign) -> str:
        counted = campaign_progress(campaign_id=campaign.pk)["outcomes"]
        if not counted:
            return "None yet."
        return format_html(
            "<table><tr><th>Outcome</th><th>Leads</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", counted.items()),
        )

    @admin.display(description="Leads")
    def leads_link(self, campaign: Campaign) -> str:
        url = reverse("admin:leads_lead_changelist")
        return format_html(
            '<a href="{}?campaign__id__exact={}">Its leads, each with its history</a>',
            url,
            campaign.pk,
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:campaign_id>/progress/",
                self.admin_site.admin_view(self.progress_json),
                name="leads_campaign_progress",
            ),
            path(
                "<int:campaign_id>/control/<str:verb>/",
                self.admin_site.admin_view(require_POST(self.control)),
                name="leads_campaign_control",
            ),
            *super().get_urls(),
        ]

    def progress_json(self, request: HttpRequest, campaign_id: int) -> JsonResponse:
        """What the progress blocks poll every two seconds while a campaign runs."""
        campaign = get_object_or_404(self.get_queryset(request), pk=campaign_id)
        progress = campaign_progress(campaign_id=campaign.pk)
        return JsonResponse(
            {
                "status": campaign.status,
                "pause_reason": campaign.pause_reason,
                "progress": progress,
                "text": progress_text(campaign, progress),
            }
        )

    def control(self, request: HttpRequest, campaign_id: int, verb: str) -> HttpResponseRedirect:
        """A lifecycle button: the service decides; refusals come back as messages."""
        campaign = get_object_or_404(self.get_queryset(request), pk=campaign_id)
        page = reverse("admin:leads_campaign_change", args=[campaign.pk])
        if verb not in VERBS or not self.has_control_permission(request, campaign):
            self.message_user(request, "Your role may not do this.", messages.ERROR)
            return HttpResponseRedirect(page)
        self._apply(request, [campaign], verb)
        return HttpResponseRedirect(page)

    def _apply(self, request: HttpRequest, campaigns: Any, verb: str) -> None:
        service, _ = VERBS[verb]
        actor = actor_label(request.user)
        done, refused = 0, []
        for campaign in campaigns:
            if not self.has_control_permission(request, campaign):
                refused.append(f"{campaign.name}: your role may not change it")
                continue
            try:
                service(campaign_id=campaign.pk, actor=actor)
            except ApplicationError as error:
                refused.append(f"{campaign.name}: {error.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} campaign(s): {verb} done.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Start selected campaigns", permissions=["control"])
    def start_selected(self, request: HttpRequest, queryset: models.QuerySet[Campaign]) -> None:
        self._apply(request, queryset, "start")

    @admin.action(description="Pause selected campaigns", permissions=["control"])
    def pause_selected(self, request: HttpRequest, queryset: models.QuerySet[Campaign]) -> None:
        self._apply(request, queryset, "pause")

    @admin.action(description="Resume selected campaigns", permissions=["control"])
    def resume_selected(self, request: HttpRequest, queryset: models.QuerySet[Campaign]) -> None:
        self._apply(request, queryset, "resume")

    @admin.action(description="Stop selected campaigns", permissions=["control"])
    def stop_selected(self, request: HttpRequest, queryset: models.QuerySet[Campaign]) -> None:
        self._apply(request, queryset, "stop")

    class Media:
        js = ["leads/campaign_progress.js"]


def progress_text(campaign: Campaign, progress: Progress) -> str:
    text = (
        f"{campaign.get_status_display()}: {progress['dialled']} dialled, "
        f"{progress['answered']} answered, {progress['in_flight']} in flight, "
        f"{progress['remaining']} remaining of {progress['leads']} leads"
    )
    if campaign.status == Status.PAUSED and campaign.pause_reason:
        text += f" (paused: {campaign.pause_reason})"
    return text
