"""Placing calls through their provider. The Call row exists before any provider is asked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calls.models import Call
from calls.services import call_advance, call_end
from telephony.providers.exotel.client import exotel_place
from telephony.providers.plivo.client import plivo_place
from telephony.providers.simulator.dialer import simulator_dial
from telephony.providers.simulator.persona import PERSONAS
from telephony.providers.twilio.client import twilio_place
from telephony.tokens import media_token_issue

logger = logging.getLogger(__name__)


def _simulator_place(call: Call) -> None:
    """The simulator's customer dials the real media endpoint and holds the whole conversation."""
    persona = PERSONAS[settings.BREEZE_SIMULATOR_PERSONA]
    asyncio.run(
        simulator_dial(
            call=call,
            token=media_token_issue(call=call),
            persona=persona,
            base_url=settings.PUBLIC_BASE_URL,
        )
    )


PLACERS: dict[str, Callable[[Call], None]] = {
    "simulator": _simulator_place,
    "twilio": twilio_place,
    "plivo": plivo_place,
    "exotel": exotel_place,
}


def call_place(*, call_id: int) -> bool:
    """Ask the call's provider to dial it, at most once; False if it was already asked.

    The move queued → dialing is a conditional UPDATE committed before the provider is asked,
    so a redelivered task (its worker died) finds the call past `queued` and dials nothing.
    A call left in `dialing` by a dead worker is ended by the dispatch reconciler.
    """
    if not call_advance(call_id=call_id, status=Call.Status.DIALING, started_at=timezone.now()):
        return False
    call = Call.objects.get(pk=call_id)
    placer = PLACERS.get(call.provider)
    if placer is None:
        call_end(
            call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="unknown_provider"
        )
        return True
    try:
        placer(call)
    except OSError as error:
        # Nothing answered the dial: a transient failure the lead's retry policy handles.
        logger.warning("call %s: %s could not dial: %s", call_id, call.provider, error)
        call_end(call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="provider_error")
    return True


def call_place_enqueue(*, call_ids: list[int]) -> None:
    """Place these calls once the transaction that created them commits."""
    from telephony.tasks import call_place_task

    def send() -> None:
        for call_id in call_ids:
            call_place_task.delay(call_id)

    if call_ids:
        transaction.on_commit(send)
