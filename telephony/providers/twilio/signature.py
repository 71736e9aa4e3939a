"""X-Twilio-Signature: Twilio signs the URL it called and the form it posted with the auth token."""

from __future__ import annotations

from django.http import HttpRequest
from twilio.request_validator import RequestValidator

from telephony.providers.shared import public_url


def twilio_signature_valid(*, request: HttpRequest, auth_token: str) -> bool:
    """Checked against the public URL, so a proxy that rewrites host or scheme changes nothing."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    url = public_url(request.get_full_path())
    return bool(RequestValidator(auth_token).validate(url, request.POST, signature))
