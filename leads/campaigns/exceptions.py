from __future__ import annotations

from config.exceptions import ApplicationError


class CampaignStateError(ApplicationError):
    """The campaign's status does not allow the requested change (start a stopped one…)."""


class CampaignValidationError(ApplicationError):
    """A campaign was refused; `field` names the input at fault."""
