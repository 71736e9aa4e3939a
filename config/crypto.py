"""Encryption at rest for merchant and template secrets (Fernet, keys from settings)."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.exceptions import DecryptionError


def _fernet_key(secret: str) -> bytes:
    # Operators may configure any high-entropy string; Fernet needs 32 url-safe base64 bytes.
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


def _cipher() -> MultiFernet:
    keys = [key.strip() for key in settings.BREEZE_ENCRYPTION_KEY.split(",") if key.strip()]
    if not keys:
        raise ImproperlyConfigured("BREEZE_ENCRYPTION_KEY is empty")
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def encrypt_json(value: dict[str, str]) -> str:
    return _cipher().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, str]:
    try:
        plaintext = _cipher().decrypt(token.encode())
    except InvalidToken as error:
        raise DecryptionError("no configured BREEZE_ENCRYPTION_KEY decrypts this value") from error
    decoded: dict[str, str] = json.loads(plaintext)
    return decoded


def reencrypt(token: str) -> str:
    """Re-encrypt with the first (newest) key, for rotating keys."""
    return _cipher().rotate(token.encode()).decode()


def encrypt_text(value: str) -> str:
    return _cipher().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError("no configured BREEZE_ENCRYPTION_KEY decrypts this value") from error
