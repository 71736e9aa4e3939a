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
from telephony.failover import dial_may_have_reached_provider
from telephony.prechecks import call_prechecks_run
from telephony.providers.exotel.client import exotel_place
from telephony.providers.plivo.client import plivo_place
from telephony.providers.simulator.dialer import simulator_dial
from telephony.providers.simulator.persona import PERSONAS
from telephony.providers.twilio.client import twilio_place
from telephony.tokens import media_token_issue
from templates_app.definition.providers import provider_after

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
    The template's pre-checks run first; a provider that refuses for now hands the call to
    the next configured provider (failover), on the same row.
    """
    if not call_advance(call_id=call_id, status=Call.Status.DIALING, started_at=timezone.now()):
        return False
    call = Call.objects.select_related("template_version__template__merchant").get(pk=call_id)
    if not call_prechecks_run(call=call):
        return True
    while True:
        placer = PLACERS.get(call.provider)
        if placer is None:
            call_end(
                call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="unknown_provider"
            )
            return True
        try:
            placer(call)
        except OSError as error:
            logger.warning("call %s: %s could not dial: %s", call_id, call.provider, error)
            following = _failover_target(call=call, error=error)
            if following is None or not call_provider_switch(
                call_id=call_id, from_provider=call.provider, to_provider=following
            ):
                # Nothing answered the dial: a transient failure the lead's retry policy handles.
                call_end(
                    call_id=call_id,
                    disposition=Call.Disposition.FAILED,
                    end_reason="provider_error",
                )
                return True
            logger.info("call %s: failing over from %s to %s", call_id, call.provider, following)
            call.provider = following
            continue
        return True


def _failover_target(*, call: Call, error: OSError) -> str | None:
    """The next configured provider, or None when there is none or the dial may have happened.

    A request whose answer was lost (read timeout, connection dropped mid-answer) may have
    reached the provider and be ringing the customer: trying another provider then could
    ring them twice at once, so that attempt ends and the retry policy waits instead.
    """
    if dial_may_have_reached_provider(error):
        return None
    execution = call.template_version.definition.get("execution", {})
    following = provider_after(
        execution, provider=call.provider, default=settings.BREEZE_DEFAULT_TELEPHONY_PROVIDER
    )
    return None if following is None else following.provider


def call_provider_switch(*, call_id: int, from_provider: str, to_provider: str) -> bool:
    """Hand a dialling call to another provider; False if it ended or moved on meanwhile.

    Conditional on the call still dialling through `from_provider` with no provider call id,
    so a call that the first provider did create (its callback recorded an id) is never
    handed to a second one.
    """
    updated = Call.objects.filter(
        pk=call_id, status=Call.Status.DIALING, provider=from_provider, provider_call_id=""
    ).update(provider=to_provider, updated_at=timezone.now())
    return updated == 1


def call_place_enqueue(*, call_ids: list[int]) -> None:
    """Place these calls once the transaction that created them commits."""
    from telephony.tasks import call_place_task

    def send() -> None:
        # One broker connection for the whole batch, not one per message.
        with call_place_task.app.producer_or_acquire() as producer:
            for call_id in call_ids:
                call_place_task.apply_async((call_id,), producer=producer)

    if call_ids:
        transaction.on_commit(send)
