"""A call arriving on a routed number becomes a Call, answered by the route's template.

Inbound calls have no lead: the call row carries the caller's number (`customer_phone`, also
the `{customer_phone}` variable) and the route's variables. A provider retrying its webhook
gets the same call back, found by the provider's call id.
"""

from __future__ import annotations

import logging

from django.db import transaction

from calls.exceptions import CallNotAllowedError
from calls.models import Call
from calls.services import call_advance, call_create
from telephony.inbound.models import InboundRoute
from telephony.media import PROVIDERS
from templates_app.exceptions import TemplateValidationError
from templates_app.selectors import template_version_published

logger = logging.getLogger(__name__)


def inbound_route_find(*, provider: str, number: str) -> InboundRoute | None:
    """The active route for a called number; Plivo leaves the `+` off, so it is put back."""
    if provider not in PROVIDERS:
        return None
    normalised = number if number.startswith("+") else f"+{number}"
    return (
        InboundRoute.objects.select_related("template", "merchant")
        .filter(provider=provider, number=normalised, is_active=True)
        .first()
    )


def inbound_call_create(*, route: InboundRoute, caller: str, provider_call_id: str) -> Call | None:
    """The call for this inbound leg, created once; None if the template is not published.

    The route's row is locked while looking for the call, so a webhook retried while the
    first is still answering finds the first one's call instead of making a second.
    """
    version = template_version_published(template=route.template)
    if version is None:
        logger.warning("inbound route %s: template %s is not published", route.pk, route.template)
        return None
    with transaction.atomic():
        InboundRoute.objects.select_for_update().filter(pk=route.pk).first()
        existing = Call.objects.filter(
            provider=route.provider, provider_call_id=provider_call_id
        ).first()
        if existing is not None:
            return existing
        try:
            call = call_create(
                version=version,
                execution_mode=Call.ExecutionMode.TELEPHONY,
                provider=route.provider,
                customer_phone=caller if caller.startswith("+") or not caller else f"+{caller}",
                payload=route.variables,
            )
        except (CallNotAllowedError, TemplateValidationError) as error:
            # The template changed under the route (a new required variable, modes).
            logger.warning("inbound route %s cannot run its template: %s", route.pk, error)
            return None
        Call.objects.filter(pk=call.pk).update(provider_call_id=provider_call_id)
        # Already answered: the call rings at Breeze until its worker takes the media.
        call_advance(call_id=call.pk, status=Call.Status.RINGING)
    call.refresh_from_db()
    return call


def inbound_route_save(*, route: InboundRoute) -> InboundRoute:
    """Validate and write a route (the admin's form; the number is unique per provider)."""
    route.full_clean()
    route.save()
    return route
