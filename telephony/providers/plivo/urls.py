from django.urls import path

from telephony.providers.plivo.answer import (
    plivo_agent_answer,
    plivo_answer,
    plivo_conference_xml,
    plivo_hold_xml,
    plivo_inbound,
    plivo_transfer_xml,
)
from telephony.providers.plivo.callbacks import (
    plivo_agent_status,
    plivo_amd,
    plivo_inbound_status,
    plivo_status,
)
from telephony.providers.plivo.recordings import plivo_recording_status

urlpatterns = [
    path("inbound/", plivo_inbound, name="plivo-inbound"),
    path("inbound/status/", plivo_inbound_status, name="plivo-inbound-status"),
    path("<int:call_id>/answer/", plivo_answer, name="plivo-answer"),
    path("<int:call_id>/status/", plivo_status, name="plivo-status"),
    path("<int:call_id>/amd/", plivo_amd, name="plivo-amd"),
    path("<int:call_id>/recording/", plivo_recording_status, name="plivo-recording"),
    path("<int:call_id>/transfer/", plivo_transfer_xml, name="plivo-transfer"),
    path("<int:call_id>/transfer/agent/", plivo_agent_answer, name="plivo-agent-answer"),
    path("<int:call_id>/transfer/status/", plivo_agent_status, name="plivo-agent-status"),
    path("<int:call_id>/transfer/conference/", plivo_conference_xml, name="plivo-conference"),
    path("<int:call_id>/transfer/hold/", plivo_hold_xml, name="plivo-hold"),
]
