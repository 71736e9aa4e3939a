from __future__ import annotations

import pytest
from django.conf import LazySettings

from calls.models import Call
from telephony.tokens import MediaTokenError, media_token_consume, media_token_issue


def test_a_token_works_once_for_its_call(call: Call) -> None:
    token = media_token_issue(call=call)

    media_token_consume(token=token, call_id=call.pk)
    with pytest.raises(MediaTokenError, match="already used"):
        media_token_consume(token=token, call_id=call.pk)

    assert Call.objects.get(pk=call.pk).media_connected_at is not None


def test_a_token_is_bound_to_its_call(call: Call) -> None:
    with pytest.raises(MediaTokenError, match="issued for another call"):
        media_token_consume(token=media_token_issue(call=call), call_id=call.pk + 1)

    assert Call.objects.get(pk=call.pk).media_connected_at is None


def test_expired_and_forged_tokens_are_refused(call: Call, settings: LazySettings) -> None:
    token = media_token_issue(call=call)
    settings.BREEZE_MEDIA_TOKEN_MAX_AGE = -1
    with pytest.raises(MediaTokenError, match="expired"):
        media_token_consume(token=token, call_id=call.pk)
    settings.BREEZE_MEDIA_TOKEN_MAX_AGE = 300
    with pytest.raises(MediaTokenError, match="bad signature"):
        media_token_consume(token=token[:-2] + "xx", call_id=call.pk)
    with pytest.raises(MediaTokenError, match="bad signature"):
        media_token_consume(token="", call_id=call.pk)
