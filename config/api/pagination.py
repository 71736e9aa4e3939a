"""Cursor pagination for every API list: stable under inserts, no COUNT(*) over big tables."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer


class CreatedCursorPagination(CursorPagination):
    """Newest first, 50 a page; `?page_size=` up to 500.

    A bulk push stores 10,000 leads with one `created_at`. The cursor then steps through the
    tie by offset, which is only right if every page sees the tied rows in the same order;
    PostgreSQL promises no order among equal keys, so the id breaks the tie.
    """

    ordering = ("-created_at", "-pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CursorListMixin:
    """For an APIView's list `get`; drf-spectacular reads `pagination_class` for the schema."""

    pagination_class = CreatedCursorPagination

    def paginated_response(
        self,
        request: Request,
        queryset: QuerySet[Model],
        serializer_class: type[BaseSerializer[Any]],
    ) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)
