from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_django import Settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.otlp import OtlpReceiver

OTEL_PATH = "/api/public/otel/v1/traces"
SCORES_PATH = "/api/public/scores"


@dataclass
class LangfuseServer:
    """A local server that takes what the Langfuse SDK sends: OTLP spans and score batches."""

    public_key: str
    secret_key: str
    spans: OtlpReceiver
    scores: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_scores(self, request: Request) -> Response:
        batch = json.loads(request.get_data())
        with self.lock:
            self.authorizations.append(request.headers.get("Authorization", ""))
            self.scores.extend(batch)
        # Langfuse answers a batch it took whole with 202.
        return Response(
            json.dumps({"message": "Accepted"}), status=202, content_type="application/json"
        )

    @property
    def basic_auth(self) -> str:
        pair = f"{self.public_key}:{self.secret_key}".encode()
        return "Basic " + base64.b64encode(pair).decode()


@pytest.fixture
def langfuse_server(httpserver: HTTPServer, settings: Settings) -> LangfuseServer:
    """The platform's Langfuse keys pointed at the local server.

    A fresh public key per test: the SDK keeps one exporter per public key per process.
    """
    server = LangfuseServer(
        public_key=f"pk-lf-{uuid.uuid4().hex[:12]}",
        secret_key="sk-lf-test",
        spans=OtlpReceiver(httpserver, path=OTEL_PATH),
    )
    httpserver.expect_request(SCORES_PATH, method="POST").respond_with_handler(server.take_scores)
    settings.LANGFUSE_PUBLIC_KEY = server.public_key
    settings.LANGFUSE_SECRET_KEY = server.secret_key
    settings.LANGFUSE_HOST = httpserver.url_for("").rstrip("/")
    return server
