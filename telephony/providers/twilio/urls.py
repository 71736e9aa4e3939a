from django.urls import path

from telephony.providers.twilio.answer import twilio_agent_answer, twilio_answer, twilio_inbound
from telephony.providers.twilio.callbacks import (
    twilio_agent_status,
    twilio_amd,
    twilio_inbound_status,
    twilio_status,
)
from telephony.providers.twilio.recordings import twilio_recording_status

urlpatterns = [
    path("inbound/", twilio_inbound, name="twilio-inbound"),
    path("inbound/status/", twilio_inbound_status, name="twilio-inbound-status"),
    path("<int:call_id>/answer/", twilio_answer, name="twilio-answer"),
    path("<int:call_id>/status/", twilio_status, name="twilio-status"),
    path("<int:call_id>/amd/", twilio_amd, name="twilio-amd"),
    path("<int:call_id>/recording/", twilio_recording_status, name="twilio-recording"),
    path("<int:call_id>/transfer/agent/", twilio_agent_answer, name="twilio-agent-answer"),
    path("<int:call_id>/transfer/status/", twilio_agent_status, name="twilio-agent-status"),
]
