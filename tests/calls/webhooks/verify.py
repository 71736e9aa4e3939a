"""The receiver-side verification snippet, executed exactly as docs/webhooks.md publishes it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.processes import ROOT

DOCS = ROOT / "docs" / "webhooks.md"

# Headers as a web framework gives them (werkzeug, Django): a case-insensitive mapping.
Verify = Callable[[str, Any, bytes], bool]


def documented_verify() -> Verify:
    text = DOCS.read_text()
    match = re.search(r"<!-- verify-snippet -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, "docs/webhooks.md lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(DOCS), "exec"), namespace)
    verify: Verify = namespace["verify_breeze_webhook"]
    return verify
