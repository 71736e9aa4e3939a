from __future__ import annotations

from config.exceptions import ApplicationError


class WebhookEndpointError(ApplicationError):
    pass
