"""API key tokens: `brz_` + an 8-character lookup prefix + a secret; only a digest is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

TOKEN_START = "brz_"  # noqa: S105 (a public marker, not a secret)
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LENGTH = len(TOKEN_START) + 8
# token_urlsafe(32) carries 256 bits of entropy, so a plain SHA-256 is a safe digest: there is
# no low-entropy password to brute-force, and verifying stays one hash per request.
_TOKEN_SHAPE = re.compile(rf"^{TOKEN_START}[a-z0-9]{{8}}_[A-Za-z0-9_-]{{43}}$")


def api_key_token_new() -> tuple[str, str]:
    """A fresh (prefix, token) pair; the token is shown to its owner once and never stored."""
    prefix = TOKEN_START + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def api_key_token_prefix(token: str) -> str | None:
    """The lookup prefix of a well-formed token, else None."""
    return token[:_PREFIX_LENGTH] if _TOKEN_SHAPE.match(token) else None


def api_key_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_key_token_matches(token: str, digest: str) -> bool:
    return hmac.compare_digest(api_key_token_digest(token), digest)
