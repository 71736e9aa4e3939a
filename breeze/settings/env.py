"""Typed readers for environment variables, so settings fail loudly on bad values."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def env_int(name: str, *, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from error


def env_list(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return value


def local_secret(name: str, local_file: Path, *, nbytes: int = 48) -> str:
    """Read a secret from the environment, else from a git-ignored local file it creates.

    A fresh clone thus keeps the same secret across restarts without anyone choosing one;
    production settings never call this.
    """
    value = os.environ.get(name, "")
    if value:
        return value
    if local_file.exists():
        return local_file.read_text().strip()
    value = secrets.token_urlsafe(nbytes)
    local_file.parent.mkdir(parents=True, exist_ok=True)
    local_file.write_text(value + "\n")
    local_file.chmod(0o600)
    return value
