"""ASGI entry point for Daphne: Django for HTTP, Channels routing for websockets."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.local")

from config.tracing.setup import tracing_configure

# Before the handler is built: Django's tracing middleware is inserted at instrumentation.
tracing_configure(service_name="breeze-web")
# Django must be set up before the routing imports consumers that touch models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from breeze.routing import browser_websocket_urlpatterns, machine_websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                # Providers and probes send no Origin and no cookie; they carry their own token.
                *machine_websocket_urlpatterns,
                # Browsers authenticate by session cookie, so the Origin must be ours (CSWSH).
                re_path(
                    r"^",
                    AllowedHostsOriginValidator(
                        AuthMiddlewareStack(URLRouter(browser_websocket_urlpatterns))
                    ),
                ),
            ]
        ),
    }
)

# Everything loaded so far lives as long as the server: out of the garbage collector's sight,
# a full collection no longer walks it, which stalled every call's media relay for 80-90 ms
# (docs/benchmarks.md).
gc.freeze()
