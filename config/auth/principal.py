"""The caller behind an API key, shaped like a user for the scoping selectors."""

from __future__ import annotations

from typing import Final

from config.models import ApiKey
from config.types import MEMBERSHIP_CACHE_ATTR


class ApiKeyPrincipal:
    """Acts as a member of the key's merchant with the key's role, and as nobody else.

    The selectors read a caller's memberships from `MEMBERSHIP_CACHE_ATTR` before touching the
    database; filling it here makes `scope_queryset`, `merchant_ids_allowing` and `user_may`
    treat the key exactly like a person holding that one membership. `pk` is None: a key is not
    a user row, so nothing can look its memberships up anew.
    """

    is_authenticated: Final = True
    is_anonymous: Final = False
    is_staff: Final = False
    is_superuser: Final = False
    pk: Final = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.is_active = True
        setattr(self, MEMBERSHIP_CACHE_ATTR, [(api_key.merchant_id, api_key.role)])

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"
