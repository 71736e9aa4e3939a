"""Websocket routes, collected from the apps as they gain consumers."""

from django.urls import path

from breeze.health import HealthConsumer

machine_websocket_urlpatterns = [
    path("ws/healthz/", HealthConsumer.as_asgi()),
]
browser_websocket_urlpatterns: list[object] = []
