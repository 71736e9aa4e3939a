"""The answer step every provider's inbound webhook shares: route, verify, create, stream.

A number without an active route is refused without a signature check (nothing changes); a
routed number's request must carry the merchant's provider signature.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from django.http import HttpRequest, HttpResponse

from calls.models import Call
from config.selectors import provider_credential_get_active, provider_credential_secrets
from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.inbound.models import InboundRoute
from telephony.inbound.services import inbound_call_create, inbound_route_find
from telephony.providers.callbacks import SignatureCheck
from telephony.providers.shared import xml_response

logger = logging.getLogger(__name__)


def _signed(
    request: HttpRequest, *, provider: str, route: InboundRoute, valid: SignatureCheck
) -> bool:
    """Whether the request carries the route's merchant's provider signature (logged if not)."""
    credential = provider_credential_get_active(merchant_id=route.merchant_id, provider=provider)
    secrets = None if credential is None else provider_credential_secrets(credential=credential)
    if secrets is None or not valid(request=request, auth_token=secrets["auth_token"]):
        logger.warning("%s inbound request for %s refused: bad signature", provider, route.number)
        return False
    return True


def inbound_answer(
    request: HttpRequest,
    *,
    provider: str,
    id_field: str,
    valid: SignatureCheck,
    stream: Callable[..., str],
    refuse: Callable[[], str],
) -> HttpResponse:
    called, caller = request.POST.get("To", ""), request.POST.get("From", "")
    route = inbound_route_find(provider=provider, number=called)
    if route is None:
        logger.warning("%s inbound call to unrouted number %r refused", provider, called)
        return xml_response(refuse())
    if not _signed(request, provider=provider, route=route, valid=valid):
        return HttpResponse(status=403)
    provider_call_id = request.POST.get(id_field, "")
    if not provider_call_id:
        return HttpResponse(status=400)
    call = inbound_call_create(route=route, caller=caller, provider_call_id=provider_call_id)
    if call is None or call.status == Call.Status.ENDED:
        return xml_response(refuse())
    logger.info("%s inbound call %s to %s is call %s", provider, provider_call_id, called, call.pk)
    return xml_response(stream(call=call))


def inbound_status(
    request: HttpRequest,
    *,
    provider: str,
    id_field: str,
    valid: SignatureCheck,
    statuses: Mapping[str, ProviderStatus],
) -> HttpResponse:
    """The number's own status (or hang-up) callback: an inbound call has no per-call URL.

    Without it, a caller who hangs up before the stream starts would leave the call ringing.
    """
    route = inbound_route_find(provider=provider, number=request.POST.get("To", ""))
    if route is None:
        return HttpResponse(status=204)
    if not _signed(request, provider=provider, route=route, valid=valid):
        return HttpResponse(status=403)
    status = statuses.get(request.POST.get("CallStatus", ""))
    provider_call_id = request.POST.get(id_field, "")
    if status is None or not provider_call_id:
        return HttpResponse(status=400)
    call = Call.objects.filter(
        provider=provider, provider_call_id=provider_call_id, merchant_id=route.merchant_id
    ).first()
    if call is None:
        logger.info("%s inbound status for unknown call %s ignored", provider, provider_call_id)
        return HttpResponse(status=204)
    call_provider_status_apply(call=call, provider_call_id=provider_call_id, status=status)
    return HttpResponse(status=204)
