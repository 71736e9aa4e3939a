from django.urls import path

from telephony.consumers import MediaStreamConsumer

websocket_urlpatterns = [
    path("ws/media/<str:provider>/<int:call_id>/", MediaStreamConsumer.as_asgi()),
]
