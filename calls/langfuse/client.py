"""Which Langfuse project a merchant's calls go to, and a client for it.

The langfuse SDK is imported only once a call has a project: it adds 13 MB to every call
worker's memory, and most deployments' workers never send it anything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from opentelemetry.sdk.trace import TracerProvider

from config.selectors import provider_credentials_for_merchant
from config.tracing.context import trace_id_hex

if TYPE_CHECKING:
    from langfuse import Langfuse


@dataclass(frozen=True)
class LangfuseProject:
    public_key: str
    secret_key: str
    host: str


def langfuse_project_for(*, merchant_id: int) -> LangfuseProject | None:
    """The merchant's own `langfuse` credential, else the platform's keys, else None."""
    own = provider_credentials_for_merchant(merchant_id=merchant_id).get("langfuse")
    if own:
        return LangfuseProject(
            public_key=own["public_key"],
            secret_key=own["secret_key"],
            host=(own.get("host") or settings.LANGFUSE_HOST).rstrip("/"),
        )
    if settings.LANGFUSE_PUBLIC_KEY and settings.LANGFUSE_SECRET_KEY:
        return LangfuseProject(
            public_key=settings.LANGFUSE_PUBLIC_KEY,
            secret_key=settings.LANGFUSE_SECRET_KEY,
            host=settings.LANGFUSE_HOST.rstrip("/"),
        )
    return None


_clients: dict[LangfuseProject, Langfuse] = {}
_lock = threading.Lock()


def langfuse_client(project: LangfuseProject) -> Langfuse:
    """One client per project per process (a Celery worker scores many merchants' calls).

    Each has a tracer provider of its own: Langfuse would otherwise install one as the
    process's global provider, and every span of the OTEL tracing would become recording
    (and be filtered out by Langfuse) even where tracing is off.
    """
    from langfuse import Langfuse

    with _lock:
        client = _clients.get(project)
        if client is None:
            client = Langfuse(
                public_key=project.public_key,
                secret_key=project.secret_key,
                base_url=project.host,
                tracer_provider=TracerProvider(),
            )
            _clients[project] = client
        return client


def call_langfuse_trace_id(*, call_id: int, traceparent: str) -> str:
    """The call's trace id in Langfuse: its OpenTelemetry trace id if tracing stored one.

    Both tools then name the call alike; without tracing the id is derived from the call id.
    """
    from langfuse import Langfuse

    return trace_id_hex(traceparent) or Langfuse.create_trace_id(seed=f"breeze-call-{call_id}")
