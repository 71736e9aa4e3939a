from django.urls import path

from telephony.providers.plivo.answer import plivo_answer, plivo_inbound, plivo_transfer_xml
from telephony.providers.plivo.callbacks import plivo_amd, plivo_inbound_status, plivo_status
from telephony.providers.plivo.recordings import plivo_recording_status

urlpatterns = [
    path("inbound/", plivo_inbound, name="plivo-inbound"),
    path("inbound/status/", plivo_inbound_status, name="plivo-inbound-status"),
    path("<int:call_id>/answer/", plivo_answer, name="plivo-answer"),
    path("<int:call_id>/status/", plivo_status, name="plivo-status"),
    path("<int:call_id>/amd/", plivo_amd, name="plivo-amd"),
    path("<int:call_id>/recording/", plivo_recording_status, name="plivo-recording"),
    path("<int:call_id>/transfer/", plivo_transfer_xml, name="plivo-transfer"),
]
