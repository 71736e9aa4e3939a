"""Long-lived processes keep what they loaded at start out of the garbage collector's sight.

A full collection in Daphne walked the whole Django stack (80-90 ms, every relayed call
stalled); in a forked call worker it would also copy the supervisor's pages.
"""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings

# Django, Channels and the apps alone are a few hundred thousand objects.
LOADED_AT_START = 100_000


def _frozen_after(code: str) -> int:
    output = subprocess.run(
        [sys.executable, "-c", f"{code}; import gc; print(gc.get_freeze_count())"],
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "breeze.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(output.stdout.split()[-1])


def test_daphnes_application_freezes_what_it_loaded() -> None:
    assert _frozen_after("import breeze.asgi") > LOADED_AT_START


def test_the_voice_supervisor_freezes_the_preloaded_stack_before_forking() -> None:
    assert (
        _frozen_after(
            "import django; django.setup(); from calls.voice.forked import preload; preload()"
        )
        > LOADED_AT_START
    )
