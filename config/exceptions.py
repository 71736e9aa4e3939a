from __future__ import annotations


class ApplicationError(Exception):
    """A business rule refused the request; `field` names the input at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CredentialError(ApplicationError):
    pass


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""
