"""The `Breeze-Signature` header: HMAC-SHA256 of "{timestamp}.{body}", one `v1=` per secret."""

from __future__ import annotations

import hashlib
import hmac


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secrets: list[str], timestamp: int, body: bytes) -> str:
    """Every valid secret signs, so a receiver holding either one during a rotation verifies."""
    return ",".join(
        f"v1={signature(secret=secret, timestamp=timestamp, body=body)}" for secret in secrets
    )
