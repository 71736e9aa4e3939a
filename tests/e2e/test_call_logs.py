"""One call followed across processes by its ids, in the JSON logs of Daphne and the worker."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from calls.models import Call
from telephony.providers.simulator.persona import PERSONAS
from templates_app.models import TemplateVersion
from tests.demo_payloads import DEMO_PAYLOADS
from tests.e2e.conftest import Stack, new_call, place

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by the stack's processes, which inherit this environment.
    monkeypatch.setenv("LOG_FORMAT", "json")


def _lines(log: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


@pytest.mark.usefixtures("json_logs")
def test_a_calls_lines_carry_its_ids_in_every_process(
    stack: Stack, published: TemplateVersion
) -> None:
    row = new_call(published, payload=DEMO_PAYLOADS["order-confirmation"])
    ended, _ = asyncio.run(place(stack, row, PERSONAS["cod-confirm"]))
    assert ended.disposition == Call.Disposition.ANSWERED

    ids = {"call_id": str(row.pk), "merchant_id": str(row.merchant_id)}
    web = [line for line in _lines(stack.logs / "web.log") if line.get("call_id") == ids["call_id"]]
    voice = [
        line for line in _lines(stack.logs / "voice.log") if line.get("call_id") == ids["call_id"]
    ]
    (relayed,) = (line for line in web if "media relayed to worker" in line["message"])
    (ended_line,) = (line for line in voice if line["logger"] == "calls.voice.worker")
    assert relayed["logger"] == "telephony.consumers"
    assert {key: relayed[key] for key in ids} == ids
    assert relayed["message"].endswith(f"media relayed to worker {ended_line['worker_id']}")
    assert {key: ended_line[key] for key in ids} == ids
    assert ended_line["message"] == f"call {row.pk} ended: answered (bot_ended)"
    # Pipecat's own lines (loguru) arrive in the same stream with the same ids.
    assert any(line["logger"].startswith("pipecat.") for line in voice)
    everything = (stack.logs / "web.log").read_text() + (stack.logs / "voice.log").read_text()
    assert "5555550123" not in everything
