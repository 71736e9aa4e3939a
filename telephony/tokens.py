"""Signed, expiring, single-use tokens that let one provider stream connect to one call.

The signature (Django's signing, salted) proves Breeze issued the token for this call; the
age check bounds replay; the nonce is spent in PostgreSQL with a conditional UPDATE, so a
token works once even if Redis is flushed or two connections race.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils import timezone

from calls.models import Call

_SALT = "breeze.telephony.media"


class MediaTokenError(Exception):
    """Why a media token was refused: bad signature, expired, wrong call, or already used."""


def media_token_issue(*, call: Call) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object(
        {"call": call.pk, "nonce": call.media_token_nonce}, compress=True
    )


def media_token_consume(*, token: str, call_id: int) -> None:
    """Spend `token` for `call_id`, or raise MediaTokenError saying why it is refused."""
    try:
        claims = signing.TimestampSigner(salt=_SALT).unsign_object(
            token, max_age=settings.BREEZE_MEDIA_TOKEN_MAX_AGE
        )
    except signing.SignatureExpired as error:
        raise MediaTokenError("expired") from error
    except signing.BadSignature as error:
        raise MediaTokenError("bad signature") from error
    if claims.get("call") != call_id:
        raise MediaTokenError("issued for another call")
    spent = Call.objects.filter(
        pk=call_id, media_token_nonce=claims.get("nonce"), media_connected_at__isnull=True
    ).update(media_connected_at=timezone.now())
    if spent != 1:
        raise MediaTokenError("already used")
