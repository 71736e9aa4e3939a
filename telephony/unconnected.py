"""Calls that rang but whose media never connected, and whose provider never said they ended.

A lost `completed` callback (the provider gave up retrying, a misconfigured status URL) would
leave such a call `ringing` for ever: its lead stuck in `dialing` and its limiter slots renewed
by the dispatch reconciler. The provider is asked what became of the call; a final answer is
applied as if its callback had arrived, anything else is hung up and ended `failed`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from calls.models import Call
from calls.services import call_end
from telephony.events import ProviderStatus, call_provider_status_apply
from telephony.providers.exotel.callbacks import STATUSES as EXOTEL_STATUSES
from telephony.providers.exotel.client import exotel_fetch_status
from telephony.providers.plivo.callbacks import STATUSES as PLIVO_STATUSES
from telephony.providers.plivo.client import plivo_fetch_status, plivo_hang_up
from telephony.providers.twilio.callbacks import STATUSES as TWILIO_STATUSES
from telephony.providers.twilio.client import twilio_fetch_status, twilio_hang_up

logger = logging.getLogger(__name__)

_FINAL = frozenset(
    {
        ProviderStatus.COMPLETED,
        ProviderStatus.BUSY,
        ProviderStatus.NO_ANSWER,
        ProviderStatus.FAILED,
        ProviderStatus.CANCELED,
    }
)


@dataclass(frozen=True)
class _Provider:
    fetch_status: Callable[..., str | None]
    statuses: dict[str, ProviderStatus]
    # Exotel has no hang-up request: a call without its stream ends with its flow.
    hang_up: Callable[..., bool] | None


_PROVIDERS: dict[str, _Provider] = {
    "twilio": _Provider(twilio_fetch_status, TWILIO_STATUSES, twilio_hang_up),
    "plivo": _Provider(plivo_fetch_status, PLIVO_STATUSES, plivo_hang_up),
    "exotel": _Provider(exotel_fetch_status, EXOTEL_STATUSES, None),
}


def _nobody_to_ask(**_: object) -> None:
    return None


# The simulator (and any provider without a status API): nobody to ask, nothing to hang up.
_UNASKED = _Provider(_nobody_to_ask, {}, None)


@dataclass
class UnconnectedReport:
    applied: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)


def calls_reconcile_unconnected(*, now: dt.datetime | None = None) -> UnconnectedReport:
    """End calls `ringing` with no media for `BREEZE_RING_TIMEOUT_SECONDS`.

    A provider that cannot be reached now (429, 5xx, no connection) is asked again at the next
    run, up to twice the timeout; after that the call is ended without its answer.
    """
    now = now or timezone.now()
    timeout = dt.timedelta(seconds=settings.BREEZE_RING_TIMEOUT_SECONDS)
    stale = Call.objects.filter(
        status=Call.Status.RINGING, media_connected_at__isnull=True, updated_at__lt=now - timeout
    ).exclude(provider="daily")  # Daily sessions have their own reconciler.
    report = UnconnectedReport()
    for call in stale:
        provider = _PROVIDERS.get(call.provider, _UNASKED)
        try:
            word = provider.fetch_status(call=call)
        except OSError as error:
            if call.updated_at >= now - 2 * timeout:
                logger.warning(
                    "call %s: %s unreachable, asked again later: %s", call.pk, call.provider, error
                )
                report.deferred.append(call.pk)
                continue
            word = None
        status = provider.statuses.get(word or "")
        if status in _FINAL:
            assert status is not None
            if call_provider_status_apply(
                call=call, provider_call_id=call.provider_call_id, status=status
            ):
                report.applied.append(call.pk)
            continue
        _hang_up(call=call, provider=provider)
        if call_end(
            call_id=call.pk, disposition=Call.Disposition.FAILED, end_reason="media_never_connected"
        ):
            report.ended.append(call.pk)
    if report.applied or report.ended:
        logger.warning(
            "reconcile: unconnected calls ended by their provider's word %s, ended failed %s",
            report.applied,
            report.ended,
        )
    return report


def _hang_up(*, call: Call, provider: _Provider) -> None:
    if provider.hang_up is None:
        return
    try:
        provider.hang_up(call=call)
    except OSError as error:
        # The call is ended here all the same; a line the provider still holds ends with
        # its own timeout, and its late `completed` callback changes nothing.
        logger.warning("call %s: hang-up at %s failed: %s", call.pk, call.provider, error)
