"""The provider sandbox (`manage.py run_provider_sandbox`): local stand-ins for the vendors.

`BREEZE_PROVIDER_SANDBOX=1` points every vendor API root that is not set explicitly at it,
for `make run` demos; production refuses it.
"""

from __future__ import annotations

from breeze.settings.env import env_bool, env_str

BREEZE_PROVIDER_SANDBOX = env_bool("BREEZE_PROVIDER_SANDBOX", default=False)
BREEZE_PROVIDER_SANDBOX_URL = env_str(
    "BREEZE_PROVIDER_SANDBOX_URL", "http://127.0.0.1:8010"
).rstrip("/")


def sandbox_root(path: str, default: str) -> str:
    """A vendor's API root: under the sandbox when it is on, else `default`."""
    return BREEZE_PROVIDER_SANDBOX_URL + path if BREEZE_PROVIDER_SANDBOX else default


__all__ = ["BREEZE_PROVIDER_SANDBOX", "BREEZE_PROVIDER_SANDBOX_URL"]
