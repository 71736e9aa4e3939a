"""`GET /metrics` for Prometheus, behind a bearer token (docs/observability.md)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from calls.metrics.collector import call_metrics
from config.metrics import CachedCollector
from leads.metrics.collector import dispatch_metrics
from telephony.metrics import daily_room_metrics

# Only the platform's own metrics: this process's Python internals would describe one
# replica of many, and mislead.
registry = CollectorRegistry(auto_describe=False)
registry.register(CachedCollector([call_metrics, dispatch_metrics, daily_room_metrics]))


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("metrics are disabled: METRICS_TOKEN is not set")
    expected = f"Bearer {token}".encode()
    given = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
