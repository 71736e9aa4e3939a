"""Exotel signs nothing, so each call's callback URLs carry a secret only Breeze can compute.

The secret is an HMAC of the call id under the project's secret key: unguessable, different
for every call, and nothing to store. It is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def exotel_call_secret(*, call_id: int) -> str:
    key = f"breeze.telephony.exotel:{settings.SECRET_KEY}".encode()
    return hmac.new(key, str(call_id).encode(), hashlib.sha256).hexdigest()


def exotel_secret_valid(*, call_id: int, secret: str) -> bool:
    return hmac.compare_digest(secret.encode(), exotel_call_secret(call_id=call_id).encode())
