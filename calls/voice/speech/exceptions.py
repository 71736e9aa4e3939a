"""Why a call's speech or language service could not be built, or could not run."""

from __future__ import annotations

from collections.abc import Sequence

from config.exceptions import ApplicationError


class SpeechConfigError(ApplicationError):
    """The effective config asks for a service that cannot be built; `field` names the input."""


class UnknownProviderError(SpeechConfigError):
    def __init__(self, provider: object, *, field: str) -> None:
        super().__init__(f"{field}: unknown provider {provider!r}", field=field)
        self.provider = provider


class MissingCredentialsError(SpeechConfigError):
    def __init__(self, provider: str, keys: Sequence[str]) -> None:
        super().__init__(
            f"{provider} needs the credential keys {', '.join(keys)}, which are not set",
            field=f"credentials.{provider}",
        )
        self.provider = provider
        self.keys = tuple(keys)


class ProviderUnavailableError(SpeechConfigError):
    """The provider's Pipecat service imports a vendor SDK that is not installed here."""

    def __init__(
        self,
        provider: str,
        missing_module: str,
        *,
        extra: str | None = None,
        field: str | None = None,
    ) -> None:
        remedy = f"; install pipecat-ai[{extra}]" if extra else ""
        super().__init__(
            f"{provider} needs the Python module {missing_module!r}, which is not installed"
            f"{remedy}",
            field=field,
        )
        self.provider = provider
        self.missing_module = missing_module
        self.extra = extra


class SpeechServerError(Exception):
    """The shared speech server could not be reached, or could not do what was asked."""
