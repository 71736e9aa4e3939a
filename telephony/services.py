"""Placing calls through their provider. The Call row exists before any provider is asked."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from calls.models import Call
from calls.services import call_dialing_renew, call_end, calls_mark_dialing
from config.logs import context as log_context
from config.tracing.context import span_from
from telephony.failover import dial_may_have_reached_provider
from telephony.prechecks import call_prechecks_run
from telephony.providers.exotel.client import exotel_place
from telephony.providers.plivo.client import plivo_place
from telephony.providers.simulator.dialer import simulator_dial
from telephony.providers.simulator.persona import PERSONAS
from telephony.providers.twilio.client import twilio_place
from telephony.tokens import media_token_issue
from templates_app.definition.providers import provider_after
from templates_app.models import TemplateVersion

logger = logging.getLogger(__name__)
# Per call of a placement batch's round (see `call_place_enqueue`): long enough for a whole
# simulated conversation, which the simulator holds in the task.
PLACEMENT_SOFT_TIME_LIMIT, PLACEMENT_TIME_LIMIT = 900, 960


# The event loop a placement thread's simulated customers run in, kept for every call that
# thread dials: asyncio.run would build and tear down a loop per call (0.15 ms, more than
# the rest of a simulated dial).
_loops = threading.local()


@contextmanager
def _event_loop_kept() -> Iterator[None]:
    runner = asyncio.Runner()  # its loop is made on first use: none without a simulated call
    _loops.runner = runner
    try:
        yield
    finally:
        _loops.runner = None
        runner.close()


def _simulator_place(call: Call) -> None:
    """The simulator's customer dials the real media endpoint and holds the whole conversation."""
    persona = PERSONAS[settings.BREEZE_SIMULATOR_PERSONA]
    dial = simulator_dial(
        call=call,
        token=media_token_issue(call=call),
        persona=persona,
        base_url=settings.PUBLIC_BASE_URL,
    )
    runner: asyncio.Runner | None = getattr(_loops, "runner", None)
    if runner is None:
        asyncio.run(dial)
    else:
        runner.run(dial)


PLACERS: dict[str, Callable[[Call], None]] = {
    "simulator": _simulator_place,
    "twilio": twilio_place,
    "plivo": plivo_place,
    "exotel": exotel_place,
}


def call_place(*, call_id: int) -> bool:
    """Ask the call's provider to dial it, at most once; False if it was already asked."""
    return calls_place(call_ids=[call_id]) == [call_id]


def calls_place(*, call_ids: Sequence[int]) -> list[int]:
    """Ask each call's provider to dial it, at most once; the ids this batch handed over.

    One conditional UPDATE moves every call still `queued` to `dialing` and returns their
    rows; it commits before any provider is asked, so a redelivered batch (its worker died)
    or a call another batch already took dials nothing. Their versions, templates and
    merchants are one more query. A call left in `dialing` by a dead worker is ended by the
    dispatch reconciler. Each call then goes on its own: the template's pre-checks, its
    provider, failover to the next provider on a refusal for now. A provider error on one
    call touches no other call of the batch.
    """
    calls = calls_mark_dialing(call_ids=call_ids)
    if not calls:
        return []
    versions = TemplateVersion.objects.select_related("template__merchant").in_bulk(
        {call.template_version_id for call in calls}
    )
    for call in calls:
        call.template_version = versions[call.template_version_id]
    dial = functools.partial(_call_dial, claimed=time.monotonic())
    _each_concurrently(calls, dial, limit=settings.BREEZE_PLACEMENT_CONCURRENCY)
    return [call.pk for call in calls]


def _each_concurrently(calls: Sequence[Call], work: Callable[[Call], None], *, limit: int) -> None:
    """`work` on every call, up to `limit` at a time; one call's failure stops no other.

    A provider request (or a simulated conversation) holds its thread while it lasts, as
    one call of the telephony worker's pool did when each call was its own task. A single
    call runs in the caller's thread.
    """
    pending: queue.SimpleQueue[Call] = queue.SimpleQueue()
    for call in calls:
        pending.put(call)

    def drain() -> None:
        with _event_loop_kept():
            while True:
                try:
                    call = pending.get_nowait()
                except queue.Empty:
                    return
                _guarded(work, call)

    if len(calls) == 1 or limit <= 1:
        drain()
        return

    def drain_in_thread() -> None:
        try:
            drain()
        finally:
            # This thread's own connection, if a provider or failover opened one.
            connections.close_all()

    # Each thread starts in the task's context: its log ids (task, request) go with it.
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(drain_in_thread,))
        for _ in range(min(limit, len(calls)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _guarded(work: Callable[[Call], None], call: Call) -> None:
    try:
        work(call)
    except SoftTimeLimitExceeded:
        # The batch's time is up: its remaining calls are left to the reconciler too.
        raise
    except Exception:
        # Left `dialing`: the stuck-call reconciler ends it `dial_unconfirmed`, as it would
        # have ended a call whose own task failed.
        logger.exception("call %s: placement failed", call.pk)


def _call_dial(call: Call, *, claimed: float) -> None:
    """One claimed call: its pre-checks, then its providers in order, in the call's trace."""
    ids = {"call_id": call.pk, "merchant_id": call.merchant_id, "lead_id": call.lead_id}
    with (
        log_context.bound(**ids),
        span_from(call.traceparent, "call.dial", attributes={"breeze.call_id": call.pk}),
    ):
        # Reached late (earlier calls held the batch's threads, simulated conversations do):
        # the stuck-call reconciler ends a call `dialing` for BREEZE_DIAL_TIMEOUT_SECONDS,
        # so past half of that the call is confirmed first, one round trip, and skipped if
        # it was ended. Calls reached in time, nearly all, cost no round trip here.
        late = time.monotonic() - claimed > settings.BREEZE_DIAL_TIMEOUT_SECONDS / 2
        if late and not call_dialing_renew(call_id=call.pk):
            logger.warning("call %s: ended before its placement reached it; not dialling", call.pk)
            return
        if call_prechecks_run(call=call):
            _call_dial_providers(call)


def _call_dial_providers(call: Call) -> None:
    call_id = call.pk
    while True:
        placer = PLACERS.get(call.provider)
        if placer is None:
            call_end(
                call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="unknown_provider"
            )
            return
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
                return
            logger.info("call %s: failing over from %s to %s", call_id, call.provider, following)
            call.provider = following
            continue
        return


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


def call_place_enqueue(*, call_ids: Sequence[int]) -> None:
    """Place these calls once the transaction that created them commits: one message a batch."""
    from telephony.tasks import calls_place_task

    chunk = settings.BREEZE_DISPATCH_BATCH
    batches = [list(call_ids[start : start + chunk]) for start in range(0, len(call_ids), chunk)]

    def send() -> None:
        with calls_place_task.app.producer_or_acquire() as producer:
            for batch in batches:
                # A task holds its calls' dials (a simulated conversation lasts minutes), so
                # its time limits grow with the rounds its threads need.
                rounds = -(-len(batch) // max(1, settings.BREEZE_PLACEMENT_CONCURRENCY))
                calls_place_task.apply_async(
                    (batch,),
                    producer=producer,
                    soft_time_limit=PLACEMENT_SOFT_TIME_LIMIT * rounds,
                    time_limit=PLACEMENT_TIME_LIMIT * rounds,
                )

    if batches:
        transaction.on_commit(send)
