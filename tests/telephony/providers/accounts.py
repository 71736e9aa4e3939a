"""The local provider accounts the adapter tests use, by provider."""

from __future__ import annotations

from tests.telephony.providers import test_exotel, test_plivo, test_twilio

SECRETS = {
    "twilio": test_twilio.SECRETS,
    "plivo": test_plivo.SECRETS,
    "exotel": test_exotel.SECRETS,
}
# The call id each local API gives a placed call.
PROVIDER_IDS = {
    "twilio": test_twilio.CALL_SID,
    "plivo": test_plivo.CALL_UUID,
    "exotel": test_exotel.CALL_SID,
}
