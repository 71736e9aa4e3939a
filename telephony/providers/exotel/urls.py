from django.urls import path

from telephony.providers.exotel.answer import exotel_dial, exotel_stream
from telephony.providers.exotel.callbacks import exotel_status

urlpatterns = [
    path("stream/", exotel_stream, name="exotel-stream"),
    path("dial/", exotel_dial, name="exotel-dial"),
    path("<int:call_id>/<str:secret>/status/", exotel_status, name="exotel-status"),
]
