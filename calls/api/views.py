from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from calls.api.serializers import (
    CallDetailSerializer,
    CallFilterSerializer,
    CallSerializer,
)
from calls.selectors import call_get, call_list
from config.api.pagination import CursorListMixin
from config.api.permissions import ResourceView
from config.types import Resource


class CallListApi(CursorListMixin, ResourceView):
    resource = Resource.CALL

    @extend_schema(parameters=[CallFilterSerializer], responses=CallSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The calls of the caller's merchants, newest first; one row per attempt."""
        filters = CallFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        calls = call_list(user=request.user, **filters.validated_data)
        return self.paginated_response(request, calls, CallSerializer)


class CallDetailApi(ResourceView):
    resource = Resource.CALL

    @extend_schema(responses=CallDetailSerializer)
    def get(self, request: Request, call_id: int) -> Response:
        """One call with its transcript, outcome and how long each answer took."""
        call = call_get(user=request.user, call_id=call_id)
        if call is None:
            raise Http404
        return Response(CallDetailSerializer(call).data)
