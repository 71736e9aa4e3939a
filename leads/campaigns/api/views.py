"""The campaign API: list, create, read, and start/pause/resume/stop. Views only translate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import Conflict
from config.api.pagination import CursorListMixin
from config.api.permissions import ResourceView
from config.types import Action, Resource
from leads.campaigns.api import examples
from leads.campaigns.api.serializers import (
    CampaignDetailSerializer,
    CampaignInputSerializer,
    CampaignListFilterSerializer,
    CampaignPauseInputSerializer,
    CampaignSerializer,
)
from leads.campaigns.exceptions import CampaignStateError, CampaignValidationError
from leads.campaigns.selectors import (
    campaign_get,
    campaign_lead_import_get,
    campaign_list,
    campaign_templates_matching,
)
from leads.campaigns.services import (
    LeadFilter,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_start,
    campaign_stop,
)
from leads.models import Campaign
from leads.services import actor_label

_ERRORS = {
    400: OpenApiResponse(description="Invalid input; `fields` names each problem."),
    403: OpenApiResponse(description="The caller's role may not do this."),
    404: OpenApiResponse(description="No such campaign among the caller's merchants."),
}


@contextmanager
def service_errors() -> Iterator[None]:
    """Answer the services' refusals in the API's one error format."""
    try:
        yield
    except CampaignValidationError as error:
        raise exceptions.ValidationError(
            {error.field or "non_field_errors": [error.message]}
        ) from error
    except CampaignStateError as error:
        raise Conflict(error.message) from error


class CampaignListApi(CursorListMixin, ResourceView):
    resource = Resource.CAMPAIGN

    @extend_schema(
        parameters=[CampaignListFilterSerializer],
        responses={200: CampaignSerializer(many=True)},
        examples=examples.CAMPAIGN_LIST,
    )
    def get(self, request: Request) -> Response:
        """The caller's campaigns, newest first (progress is on each campaign's own page)."""
        filters = CampaignListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        campaigns = campaign_list(
            user=request.user, status=filters.validated_data.get("status")
        ).select_related("merchant")
        return self.paginated_response(request, campaigns, CampaignSerializer)

    @extend_schema(
        request=CampaignInputSerializer,
        responses={201: CampaignDetailSerializer, **_ERRORS},
        examples=examples.CAMPAIGN_CREATE,
    )
    def post(self, request: Request) -> Response:
        """Create a draft campaign from a CSV import's leads or a filter over waiting leads."""
        data = CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        matches = campaign_templates_matching(
            user=request.user, template=values["template"], merchant=values.get("merchant")
        )
        if not matches:
            raise exceptions.ValidationError({"template": ["Unknown template."]})
        if len(matches) > 1:
            raise exceptions.ValidationError(
                {"merchant": ["Several of your merchants have this template."]}
            )
        template = matches[0]
        self.check_merchant_action(request, merchant_id=template.merchant_id)
        lead_import = None
        if "lead_import" in values:
            lead_import = campaign_lead_import_get(
                user=request.user, import_id=values["lead_import"]
            )
            if lead_import is None:
                raise exceptions.ValidationError({"lead_import": ["Unknown import."]})
        lead_filter = None
        if "lead_filter" in values:
            given = values["lead_filter"]
            lead_filter = LeadFilter(
                statuses=tuple(given.get("status", LeadFilter.statuses)),
                created_after=given.get("created_after"),
                created_before=given.get("created_before"),
            )
        with service_errors():
            campaign = campaign_create(
                merchant_id=template.merchant_id,
                template_id=template.pk,
                name=values["name"],
                created_by=actor_label(request.user),
                lead_import=lead_import,
                lead_filter=lead_filter,
                calls_per_minute=values["calls_per_minute"],
                max_concurrency=values["max_concurrency"],
                failure_threshold=values["failure_threshold"],
                failure_window=values["failure_window"],
            )
        return Response(CampaignDetailSerializer(campaign).data, status=status.HTTP_201_CREATED)


class _OneCampaignView(ResourceView):
    resource = Resource.CAMPAIGN

    def campaign_or_404(self, request: Request, campaign_id: int) -> Campaign:
        campaign = campaign_get(user=request.user, campaign_id=campaign_id)
        if campaign is None:
            raise exceptions.NotFound("No such campaign.")
        self.check_merchant_action(request, merchant_id=campaign.merchant_id)
        return campaign


class CampaignDetailApi(_OneCampaignView):
    @extend_schema(
        responses={200: CampaignDetailSerializer, **_ERRORS}, examples=examples.CAMPAIGN_DETAIL
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        """One campaign with its live progress."""
        campaign = self.campaign_or_404(request, campaign_id)
        return Response(CampaignDetailSerializer(campaign).data)


class _CampaignActionApi(_OneCampaignView):
    action = Action.CHANGE

    def run(
        self, request: Request, campaign_id: int, change: Callable[[Campaign], Campaign]
    ) -> Response:
        campaign = self.campaign_or_404(request, campaign_id)
        with service_errors():
            campaign = change(campaign)
        return Response(CampaignDetailSerializer(campaign).data)


_ACTION_RESPONSES = {200: CampaignDetailSerializer, 409: OpenApiResponse(), **_ERRORS}


class CampaignStartApi(_CampaignActionApi):
    @extend_schema(request=None, responses=_ACTION_RESPONSES, examples=examples.CAMPAIGN_START)
    def post(self, request: Request, campaign_id: int) -> Response:
        """Start a draft campaign: beat begins releasing its leads at its rate."""
        actor = actor_label(request.user)
        return self.run(
            request,
            campaign_id,
            lambda campaign: campaign_start(campaign_id=campaign.pk, actor=actor),
        )


class CampaignPauseApi(_CampaignActionApi):
    @extend_schema(
        request=CampaignPauseInputSerializer,
        responses=_ACTION_RESPONSES,
        examples=examples.CAMPAIGN_PAUSE,
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """Pause a running campaign: nothing new is dialled, calls in flight finish."""
        actor = actor_label(request.user)

        def pause(campaign: Campaign) -> Campaign:
            data = CampaignPauseInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            reason = data.validated_data.get("reason", "")
            return campaign_pause(campaign_id=campaign.pk, actor=actor, reason=reason)

        return self.run(request, campaign_id, pause)


class CampaignResumeApi(_CampaignActionApi):
    @extend_schema(request=None, responses=_ACTION_RESPONSES, examples=examples.CAMPAIGN_RESUME)
    def post(self, request: Request, campaign_id: int) -> Response:
        """Resume a paused campaign (its failure window starts afresh)."""
        actor = actor_label(request.user)
        return self.run(
            request,
            campaign_id,
            lambda campaign: campaign_resume(campaign_id=campaign.pk, actor=actor),
        )


class CampaignStopApi(_CampaignActionApi):
    @extend_schema(request=None, responses=_ACTION_RESPONSES, examples=examples.CAMPAIGN_STOP)
    def post(self, request: Request, campaign_id: int) -> Response:
        """Stop a campaign for good: its waiting leads are cancelled, calls in flight finish."""
        actor = actor_label(request.user)
        return self.run(
            request,
            campaign_id,
            lambda campaign: campaign_stop(campaign_id=campaign.pk, actor=actor),
        )
