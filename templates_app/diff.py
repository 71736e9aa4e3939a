from __future__ import annotations

import difflib
import json
from typing import Any


def definition_diff(
    previous: Any, current: Any, *, from_label: str, to_label: str
) -> list[tuple[str, str]]:
    """A unified diff of two definitions as (kind, line) pairs; kind is add, remove, hunk or same."""
    before = json.dumps(previous, indent=2, ensure_ascii=False).splitlines()
    after = json.dumps(current, indent=2, ensure_ascii=False).splitlines()
    lines = []
    for line in difflib.unified_diff(
        before, after, fromfile=from_label, tofile=to_label, lineterm="", n=3
    ):
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "remove"
        else:
            kind = "same"
        lines.append((kind, line))
    return lines
