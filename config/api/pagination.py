"""Cursor pagination for every API list: stable under inserts, no COUNT(*) over big tables."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Newest first, 50 a page; `?page_size=` up to 500."""

    ordering = "-created_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
