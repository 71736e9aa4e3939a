"""Plivo's V3 signature: HMAC-SHA256 of the URL, the sorted form and a nonce, with the token."""

from __future__ import annotations

from django.http import HttpRequest
from plivo.exceptions import PlivoRestError
from plivo.utils.signature_v3 import validate_v3_signature

from telephony.providers.shared import public_url


def plivo_signature_valid(*, request: HttpRequest, auth_token: str) -> bool:
    """Checked against the public URL, so a proxy that rewrites host or scheme changes nothing."""
    signature = request.headers.get("X-Plivo-Signature-V3", "")
    nonce = request.headers.get("X-Plivo-Signature-V3-Nonce", "")
    if not signature or not nonce:
        return False
    params = {key: request.POST.getlist(key) for key in request.POST}
    url = public_url(request.get_full_path())
    try:
        return bool(validate_v3_signature("POST", url, nonce, auth_token, signature, params))
    except PlivoRestError:
        # The SDK validates its arguments' shapes; a malformed header is a bad signature.
        return False
