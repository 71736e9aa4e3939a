"""Where Breeze reaches each telephony provider's REST API; tests point them at local servers."""

from __future__ import annotations

from breeze.settings.env import env_int, env_str
from breeze.settings.integrations.sandbox import sandbox_root

# Empty means the SDK's own host (api.twilio.com, or TWILIO_EDGE/TWILIO_REGION if set).
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", sandbox_root("/twilio", ""))
PLIVO_API_BASE_URL = env_str("PLIVO_API_BASE_URL", sandbox_root("/plivo", "https://api.plivo.com"))
# Empty means https://<the credential's subdomain>, e.g. api.in.exotel.com for Mumbai.
EXOTEL_API_BASE_URL = env_str("EXOTEL_API_BASE_URL", sandbox_root("/exotel", ""))
# Seconds Breeze waits for a provider's REST API before treating it as unavailable.
TELEPHONY_HTTP_TIMEOUT = 10.0
# What a warm transfer's customer hears in the conference until the agent joins (Twilio's own
# default hold music unless a deployment serves its own TwiML or audio).
TWILIO_HOLD_MUSIC_URL = env_str(
    "TWILIO_HOLD_MUSIC_URL", "http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical"
)
# The audio a warm transfer's customer hears on Plivo until the agent joins (played in a loop
# by Breeze's waitSound XML; Plivo's sample music unless a deployment serves its own).
PLIVO_HOLD_MUSIC_URL = env_str(
    "PLIVO_HOLD_MUSIC_URL", "https://s3.amazonaws.com/plivocloud/music.mp3"
)
# A call ringing this long with no media and no word from its provider is asked about, then
# ended (telephony/unconnected.py). Providers give up ringing after 60 s by default.
BREEZE_RING_TIMEOUT_SECONDS = env_int("BREEZE_RING_TIMEOUT_SECONDS", default=300)
# Calls of one placement batch dialled at once (each provider request, or each simulated
# conversation, holds one thread of the batch's task while it lasts).
BREEZE_PLACEMENT_CONCURRENCY = env_int("BREEZE_PLACEMENT_CONCURRENCY", default=8)
