from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.pagination import CursorListMixin
from config.api.permissions import ResourceView
from config.selectors import merchant_list, merchant_secret_names
from config.types import Action, Resource
from templates_app.api.serializers import (
    TemplateDetailSerializer,
    TemplateFilterSerializer,
    TemplateSerializer,
    TemplateValidateInputSerializer,
    TemplateValidateOutputSerializer,
    TemplateVersionDetailSerializer,
    TemplateVersionSerializer,
)
from templates_app.definition.validation import validate_definition
from templates_app.models import Template
from templates_app.selectors import template_get, template_list, template_version_list


def _template_or_404(request: Request, template_id: int) -> Template:
    template = template_get(user=request.user, template_id=template_id)
    if template is None:
        raise Http404
    return template


class TemplateListApi(CursorListMixin, ResourceView):
    resource = Resource.TEMPLATE

    @extend_schema(parameters=[TemplateFilterSerializer], responses=TemplateSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The templates of the caller's merchants, newest first."""
        filters = TemplateFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        templates = template_list(user=request.user, **filters.validated_data)
        return self.paginated_response(request, templates, TemplateSerializer)


class TemplateDetailApi(ResourceView):
    resource = Resource.TEMPLATE

    @extend_schema(responses=TemplateDetailSerializer)
    def get(self, request: Request, template_id: int) -> Response:
        """One template, with the numbers of its published and draft versions."""
        return Response(TemplateDetailSerializer(_template_or_404(request, template_id)).data)


class TemplateVersionListApi(CursorListMixin, ResourceView):
    resource = Resource.TEMPLATE

    @extend_schema(responses=TemplateVersionSerializer(many=True))
    def get(self, request: Request, template_id: int) -> Response:
        """A template's versions, newest first, without their definitions."""
        versions = template_version_list(template=_template_or_404(request, template_id))
        return self.paginated_response(request, versions, TemplateVersionSerializer)


class TemplateVersionDetailApi(ResourceView):
    resource = Resource.TEMPLATE

    @extend_schema(responses=TemplateVersionDetailSerializer)
    def get(self, request: Request, template_id: int, number: int) -> Response:
        """One version of a template, with its definition."""
        template = _template_or_404(request, template_id)
        version = get_object_or_404(template_version_list(template=template), number=number)
        return Response(TemplateVersionDetailSerializer(version).data)


class TemplateValidateApi(ResourceView):
    """Validate a posted definition without storing it: `{valid, errors[], warnings[]}`.

    Nothing is written, so it needs only the right to view templates: the admin's editor (a
    session), people's JWTs and API keys alike, as docs/rbac.md says.
    """

    resource = Resource.TEMPLATE
    action = Action.VIEW

    @extend_schema(
        request=TemplateValidateInputSerializer, responses=TemplateValidateOutputSerializer
    )
    def post(self, request: Request) -> Response:
        serializer = TemplateValidateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        secret_names: set[str] = set()
        slug = serializer.validated_data.get("merchant")
        if slug:
            merchant = merchant_list(user=request.user).filter(slug=slug).first()
            if merchant is None:
                raise serializers.ValidationError({"merchant": [f"no merchant {slug!r}"]})
            secret_names = merchant_secret_names(merchant_id=merchant.pk)
        report = validate_definition(
            serializer.validated_data["definition"], secret_names=secret_names
        )
        body: dict[str, Any] = report.as_dict()
        return Response(body)
