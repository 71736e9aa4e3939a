"""Websocket routes, collected from the apps as they gain consumers."""

from django.urls import path

from breeze.health import HealthConsumer
from calls.routing import websocket_urlpatterns as calls_browser_routes
from telephony.routing import websocket_urlpatterns as telephony_routes

machine_websocket_urlpatterns = [
    path("ws/healthz/", HealthConsumer.as_asgi()),
    *telephony_routes,
]
browser_websocket_urlpatterns: list[object] = [*calls_browser_routes]
