"""Browser websockets of the calls app (session-authenticated; see breeze/asgi.py)."""

from django.urls import path

from calls.live.consumers import LiveCallConsumer

websocket_urlpatterns = [
    path("ws/live/calls/<int:call_id>/", LiveCallConsumer.as_asgi()),
]
