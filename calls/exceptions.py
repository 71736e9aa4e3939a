from __future__ import annotations

from config.exceptions import ApplicationError


class CallNotAllowedError(ApplicationError):
    pass


class CallEndRefusedError(ApplicationError):
    """An end request from the admin was refused; `code` says why (not_found, forbidden, not_live)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code
