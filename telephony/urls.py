"""Provider-facing HTTP endpoints: answer XML and status callbacks, one prefix per provider."""

from django.urls import include, path

urlpatterns = [
    path("twilio/", include("telephony.providers.twilio.urls")),
]
