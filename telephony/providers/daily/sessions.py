"""Start a web or mobile session: a Call, a room from the pool, a token, and a bot on its way.

Everything up to the client's token happens in one transaction, so a refusal anywhere (the
template, Daily) leaves no call and returns the room to the pool; the bot is sent only after
the call is committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from calls.services import call_create
from config.call_config import DAILY_EXECUTION_MODES
from config.exceptions import ApplicationError
from config.ids import parse_id
from config.selectors import scope_queryset, user_may
from config.types import Action, Resource
from telephony.events import call_provider_id_record
from telephony.providers.daily.client import daily_meeting_token_create
from telephony.providers.daily.rooms import daily_api_key, daily_room_assign
from telephony.providers.daily.tasks import daily_bot_dispatch_task
from templates_app.models import Template, TemplateVersion
from templates_app.selectors import template_version_published

if TYPE_CHECKING:
    from config.selectors import AnyUser

logger = logging.getLogger(__name__)

CLIENT_NAME = "customer"


class DailySessionPermissionError(ApplicationError):
    pass


class DailyNotConfiguredError(ApplicationError):
    """The template's merchant has no active Daily credential."""


class DailySessionNotFoundError(ApplicationError):
    """The lead a session names does not exist or is outside the caller's merchants."""


class DailySessionStateError(ApplicationError):
    """The lead a session names is not waiting for a client (connected already, or settled)."""


@dataclass(frozen=True)
class DailySession:
    call_id: int
    room_url: str
    token: str
    expires_at: dt.datetime


def daily_template_resolve(*, user: AnyUser, template: str, merchant: str = "") -> Template:
    """The template a session names (id or slug); unknown outside the caller's merchants.

    Starting a session is pushing a conversation, so it needs the right to add leads.
    """
    visible = scope_queryset(
        Template.objects.select_related("merchant"), user=user, resource=Resource.LEAD
    )
    template_id = parse_id(template)
    visible = (
        visible.filter(pk=template_id) if template_id is not None else visible.filter(slug=template)
    )
    if merchant:
        visible = visible.filter(merchant__slug=merchant)
    found = list(visible[:2])
    if not found:
        raise ApplicationError("Unknown template.", field="template")
    if len(found) > 1:
        raise ApplicationError("Several of your merchants have this template.", field="merchant")
    if not user_may(
        user=user, resource=Resource.LEAD, action=Action.ADD, merchant_id=found[0].merchant_id
    ):
        raise DailySessionPermissionError("Your role may not start calls for this merchant.")
    return found[0]


def daily_session_start(
    *,
    template: Template,
    execution_mode: str,
    payload: Mapping[str, Any],
    is_recording: bool,
) -> DailySession:
    """Create the session's call, assign it a room and make the client's meeting token.

    Raises ApplicationError (naming the field) for what the template refuses,
    DailyNotConfiguredError without a Daily credential, and the Daily client's
    DailyUnavailableError / DailyRefusedError when Daily cannot make the room or token.
    """
    if execution_mode not in DAILY_EXECUTION_MODES:
        raise ApplicationError("Must be DAILY or DAILY_TEST.", field="execution_mode")
    if not template.is_active:
        raise ApplicationError("The template is inactive.", field="template")
    version = template_version_published(template=template)
    if version is None:
        raise ApplicationError("The template has no published version.", field="template")
    return daily_session_open(
        version=version, execution_mode=execution_mode, payload=payload, is_recording=is_recording
    )


def daily_session_open(
    *,
    version: TemplateVersion,
    execution_mode: str,
    payload: Mapping[str, Any],
    is_recording: bool,
    lead_id: int | None = None,
) -> DailySession:
    """The call (linked to `lead_id`, if given), its room and the client's token.

    Runs in the caller's transaction when there is one, so a lead's move commits or rolls
    back with its call; the bot is sent once everything has committed.
    """
    api_key = daily_api_key(merchant_id=version.template.merchant_id)
    if not api_key:
        raise DailyNotConfiguredError("This merchant has no active Daily credential.")
    with transaction.atomic():
        call = call_create(
            version=version,
            execution_mode=execution_mode,
            provider="daily",
            payload=payload,
            lead_id=lead_id,
        )
        room = daily_room_assign(call=call, api_key=api_key, is_recording=is_recording)
        call_provider_id_record(call_id=call.pk, provider_call_id=room.name)
        token = daily_meeting_token_create(
            api_key=api_key,
            room_name=room.name,
            expires_at=room.expires_at,
            user_name=CLIENT_NAME,
            is_owner=False,
            may_record=False,
        )
        transaction.on_commit(lambda: daily_bot_dispatch_task.delay(call.pk))
    logger.info("call %s: Daily session in room %s (%s)", call.pk, room.name, room.origin)
    return DailySession(call_id=call.pk, room_url=room.url, token=token, expires_at=room.expires_at)
