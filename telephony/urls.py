"""Provider-facing HTTP endpoints: answer XML and status callbacks, one prefix per provider."""

from django.urls import include, path

urlpatterns = [
    path("twilio/", include("telephony.providers.twilio.urls")),
    path("plivo/", include("telephony.providers.plivo.urls")),
    path("exotel/", include("telephony.providers.exotel.urls")),
]
