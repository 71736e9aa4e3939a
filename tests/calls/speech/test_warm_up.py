"""A warm worker has imported everything a call's services need before the call arrives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.processes import subprocess_env

ROOT = Path(__file__).resolve().parents[3]

# In a fresh process, as a pool worker starts: warm up, then build the services of a call.
SCRIPT = """
import sys
import django

django.setup()
from calls.voice.speech import registry
from templates_app.dialogue.rules_llm import RulesLLMService

registry.warm_up()
before = set(sys.modules)
registry.build_llm({}, credentials={}, rules_factory=lambda: RulesLLMService(
    functions={}, node_text=lambda: ""))
print(sorted(set(sys.modules) - before))
"""


def _last_line_printed(script: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip().splitlines()[-1]


def test_building_a_calls_llm_after_warm_up_imports_nothing_new() -> None:
    assert _last_line_printed(SCRIPT) == "[]"


def test_a_call_worker_does_not_carry_what_only_other_processes_use() -> None:
    # Each of these is megabytes in every worker's memory (docs/benchmarks.md): the admin
    # and API schema (web only), Daphne's Twisted, and SDKs used only when configured.
    script = (
        "import sys, django; django.setup(); import calls.voice.worker; "
        "print(sorted(name for name in ('daphne', 'twisted', 'drf_spectacular.plumbing', "
        "'langfuse', 'twilio', 'plivo', 'calls.admin') if name in sys.modules))"
    )

    assert _last_line_printed(script) == "[]"
