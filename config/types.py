from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    VIEW = "view"
    ADD = "add"
    CHANGE = "change"
    DELETE = "delete"


class Resource(StrEnum):
    MERCHANT = "merchant"
    MEMBERSHIP = "membership"
    CREDENTIAL = "credential"
    TEMPLATE = "template"
    LEAD = "lead"
    CALL = "call"
    CAMPAIGN = "campaign"
    WEBHOOK = "webhook"
    API_KEY = "api_key"
    PLATFORM = "platform"  # global rows no merchant owns: flags, heartbeats, schedules


# Where config.selectors keeps a caller's (merchant id, role) rows for the request; API-key
# principals (config.auth.principal) arrive with it already filled.
MEMBERSHIP_CACHE_ATTR = "_breeze_memberships"

# The keys each provider's credential must carry; extra keys (region, host, …) are allowed.
PROVIDER_REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
    "twilio": ("account_sid", "auth_token"),
    "plivo": ("auth_id", "auth_token"),
    "exotel": ("account_sid", "api_key", "api_token", "subdomain"),
    "daily": ("api_key",),
    "deepgram": ("api_key",),
    "soniox": ("api_key",),
    "sarvam": ("api_key",),
    "google": ("credentials_json",),
    "openai": ("api_key",),
    "azure_openai": ("api_key", "endpoint"),
    "elevenlabs": ("api_key",),
    "cartesia": ("api_key",),
    "langfuse": ("public_key", "secret_key"),
}
