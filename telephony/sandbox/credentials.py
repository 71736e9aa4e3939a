"""Credentials for the sandbox: any will do, these are the ones the demo and tests store.

The sandbox has no accounts: it accepts the credentials it is given and signs each call's
callbacks with the auth token that call was placed with, as the vendor would.
"""

from __future__ import annotations

from typing import Final

# Numbers on no network; the caller number is what the demo templates dial from.
SANDBOX_CALLER: Final = "+15005550006"
SANDBOX_SECRETS: Final[dict[str, dict[str, str]]] = {
    "twilio": {
        "account_sid": "AC" + "5a" * 16,
        "auth_token": "sandbox-twilio-auth-token",
        "caller_number": SANDBOX_CALLER,
    },
    "plivo": {
        "auth_id": "MASANDBOX0000000000A",
        "auth_token": "sandbox-plivo-auth-token",
        "caller_number": SANDBOX_CALLER,
    },
    "exotel": {
        "account_sid": "breezesandbox",
        "api_key": "sandbox-exotel-key",
        "api_token": "sandbox-exotel-token",
        "subdomain": "api.in.exotel.com",
        "caller_number": SANDBOX_CALLER,
        "flow_url": "http://my.exotel.com/breezesandbox/exoml/start_voice/1",
    },
    "daily": {"api_key": "sandbox-daily-api-key"},
}
