"""The Daily room pool: warm rooms per merchant, handed to one session each.

A room costs Daily about a second to create, which a waiting client would feel; the pool
keeps `DAILY_ROOM_POOL_SIZE` idle rooms per merchant with a Daily credential (its
`room_pool_size` key overrides the size). Assignment locks one idle row with SKIP LOCKED, so
two clients never get the same room; an empty pool falls back to creating a room while the
client waits (logged; counted in `breeze_daily_rooms_total{origin="on_demand"}`).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from calls.models import Call
from config.models import ProviderCredential
from config.selectors import provider_credential_get_active, provider_credential_secrets
from telephony.providers.daily.client import (
    DailyRefusedError,
    DailyUnavailableError,
    daily_room_create,
    daily_room_delete,
    daily_room_expiry_set,
)
from telephony.providers.daily.models import DailyRoom

logger = logging.getLogger(__name__)
Status = DailyRoom.Status
# An idle room this close to its expiry is not handed out: Daily could expire it before the
# refreshed expiry reaches it.
ASSIGN_MARGIN = dt.timedelta(seconds=60)


def daily_api_key(*, merchant_id: int) -> str | None:
    credential = provider_credential_get_active(merchant_id=merchant_id, provider="daily")
    if credential is None:
        return None
    return provider_credential_secrets(credential=credential).get("api_key")


def _pool_size(merchant_secrets: dict[str, str]) -> int:
    raw = merchant_secrets.get("room_pool_size")
    if raw is None:
        return int(settings.DAILY_ROOM_POOL_SIZE)
    try:
        return max(0, int(raw))
    except ValueError:
        logger.warning("Daily credential: room_pool_size %r is not a number; using default", raw)
        return int(settings.DAILY_ROOM_POOL_SIZE)


def _room_name() -> str:
    # Daily room names are public in the URL: unguessable, so a name alone reveals nothing.
    return f"breeze-{secrets.token_hex(10)}"


def daily_room_assign(*, call: Call, api_key: str, is_recording: bool) -> DailyRoom:
    """Give `call` a room of its merchant's pool (or a new one) that lasts one session.

    Must run inside the transaction that created the call: the room's row lock is the claim,
    and a failure later in that transaction returns the room to the pool.
    """
    now = timezone.now()
    session_ends = now + dt.timedelta(seconds=settings.DAILY_SESSION_SECONDS)
    room = (
        DailyRoom.objects.select_for_update(skip_locked=True)
        .filter(
            merchant_id=call.merchant_id, status=Status.IDLE, expires_at__gt=now + ASSIGN_MARGIN
        )
        .order_by("-expires_at")
        .first()
    )
    if room is None:
        logger.warning(
            "Daily room pool of merchant %s empty: creating a room for call %s",
            call.merchant_id,
            call.pk,
        )
        info = daily_room_create(api_key=api_key, name=_room_name(), expires_at=session_ends)
        room = DailyRoom(
            merchant_id=call.merchant_id,
            name=info.name,
            url=info.url,
            origin=DailyRoom.Origin.ON_DEMAND,
        )
    else:
        # A pooled room may have days left, or minutes: the session gets its own full length.
        daily_room_expiry_set(api_key=api_key, name=room.name, expires_at=session_ends)
    room.status = Status.ASSIGNED
    room.call = call
    room.assigned_at = now
    room.expires_at = session_ends
    room.is_recording = is_recording
    room.save()
    return room


@dataclass
class PoolReport:
    created: int = 0
    deleted: int = 0
    errors: int = 0


def _retire(room: DailyRoom, *, api_key: str | None, report: PoolReport) -> None:
    """Delete a room at Daily and mark it expired; left as it is if Daily cannot answer now."""
    if api_key:
        try:
            daily_room_delete(api_key=api_key, name=room.name)
        except DailyUnavailableError as error:
            logger.warning("Daily room %s not deleted yet: %s", room.name, error)
            report.errors += 1
            return
        except DailyRefusedError as error:
            # A key Daily refuses cannot delete anything; the room expires at Daily anyway.
            logger.warning("Daily room %s: delete refused (%s)", room.name, error)
            report.errors += 1
    DailyRoom.objects.filter(pk=room.pk).exclude(status=Status.EXPIRED).update(
        status=Status.EXPIRED, updated_at=timezone.now()
    )
    report.deleted += 1


def _sweep(*, now: dt.datetime, report: PoolReport) -> None:
    """Retire rooms past their expiry and rooms whose session's call has ended."""
    finished = DailyRoom.objects.filter(status=Status.ASSIGNED, call__status=Call.Status.ENDED)
    past = DailyRoom.objects.exclude(status=Status.EXPIRED).filter(expires_at__lte=now)
    keys: dict[int, str | None] = {}
    for room in (finished | past).distinct().order_by("pk")[:500]:
        if room.merchant_id not in keys:
            keys[room.merchant_id] = daily_api_key(merchant_id=room.merchant_id)
        _retire(room, api_key=keys[room.merchant_id], report=report)


def _fill(*, credential: ProviderCredential, now: dt.datetime, report: PoolReport) -> None:
    merchant_secrets = provider_credential_secrets(credential=credential)
    api_key = merchant_secrets.get("api_key", "")
    idle = DailyRoom.objects.filter(
        merchant_id=credential.merchant_id, status=Status.IDLE, expires_at__gt=now + ASSIGN_MARGIN
    ).count()
    expires_at = now + dt.timedelta(seconds=settings.DAILY_ROOM_IDLE_SECONDS)
    for _ in range(_pool_size(merchant_secrets) - idle):
        try:
            info = daily_room_create(api_key=api_key, name=_room_name(), expires_at=expires_at)
        except (DailyUnavailableError, DailyRefusedError) as error:
            # Refused (a revoked key) or unavailable: try again on the next round.
            logger.warning(
                "Daily room pool of merchant %s not filled: %s", credential.merchant_id, error
            )
            report.errors += 1
            return
        DailyRoom.objects.create(
            merchant_id=credential.merchant_id, name=info.name, url=info.url, expires_at=expires_at
        )
        report.created += 1


def daily_room_pool_maintain() -> PoolReport:
    """Retire expired and finished rooms, then top each merchant's idle rooms up to size.

    Idempotent and safe to run from two beat ticks at once: a concurrent run at worst creates
    a few extra idle rooms, which expire unused.
    """
    report = PoolReport()
    now = timezone.now()
    _sweep(now=now, report=report)
    credentials = ProviderCredential.objects.filter(
        provider="daily", label="default", is_active=True
    )
    for credential in credentials.order_by("merchant_id"):
        _fill(credential=credential, now=now, report=report)
    if report.created or report.deleted or report.errors:
        logger.info(
            "Daily room pool: %s created, %s retired, %s errors",
            report.created,
            report.deleted,
            report.errors,
        )
    return report
