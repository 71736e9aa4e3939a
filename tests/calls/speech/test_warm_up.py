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


def test_building_a_calls_llm_after_warm_up_imports_nothing_new() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    assert result.stdout.strip().splitlines()[-1] == "[]"
