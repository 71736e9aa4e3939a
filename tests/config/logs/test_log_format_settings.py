"""The LOGGING each settings module really produces, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.processes import BIN, ROOT

SCRIPT = """
import logging, django
django.setup()
from config.logs import context
with context.bound(call_id=5):
    logging.getLogger("calls.voice.worker").warning("dialling %s", "+14155550134")
"""


def _stderr(settings_module: str, **env: str) -> str:
    result = subprocess.run(
        [str(BIN / "python"), "-c", SCRIPT],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": settings_module,
            "SECRET_KEY": "k" * 50,
            "BREEZE_ENCRYPTION_KEY": "e" * 44,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip()


@pytest.mark.processes
def test_production_writes_masked_json_lines() -> None:
    line = json.loads(_stderr("breeze.settings.production"))
    assert {key: line[key] for key in ("level", "logger", "message", "call_id")} == {
        "level": "WARNING",
        "logger": "calls.voice.worker",
        "message": "dialling ***34",
        "call_id": "5",
    }


@pytest.mark.processes
def test_local_writes_readable_masked_lines_unless_json_is_asked_for() -> None:
    readable = _stderr("breeze.settings.local")
    assert readable.endswith(" WARNING calls.voice.worker [call_id=5] dialling ***34")
    as_json = json.loads(_stderr("breeze.settings.local", LOG_FORMAT="json"))
    assert as_json["message"] == "dialling ***34"
