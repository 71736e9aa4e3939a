"""Draw a definition's node graph as an SVG, server-side (no scripts, no network)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from html import escape
from typing import Any

NODE_WIDTH, NODE_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN = 170, 44, 90, 26, 20


def _layers(definition: Mapping[str, Any]) -> list[list[str]]:
    names = [node["name"] for node in definition.get("nodes", [])]
    edges = {
        node["name"]: [
            f["transition_to"] for f in node.get("functions", []) if f.get("transition_to") in names
        ]
        for node in definition.get("nodes", [])
    }
    depth: dict[str, int] = {}
    start: str = definition.get("initial_node", "")
    queue = deque([start] if start in names else [])
    if start in names:
        depth[start] = 0
    while queue:
        current = queue.popleft()
        for target in edges.get(current, []):
            if target not in depth:
                depth[target] = depth[current] + 1
                queue.append(target)
    unreachable_column = max(depth.values(), default=-1) + 1
    layers: dict[int, list[str]] = {}
    for name in names:
        layers.setdefault(depth.get(name, unreachable_column), []).append(name)
    return [layers[index] for index in sorted(layers)]


def definition_svg(definition: Mapping[str, Any]) -> str:
    """Nodes left to right by distance from the initial node; arrows labelled by function."""
    layers = _layers(definition)
    position: dict[str, tuple[int, int]] = {}
    for column, names in enumerate(layers):
        for row, name in enumerate(names):
            position[name] = (
                MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
                MARGIN + row * (NODE_HEIGHT + ROW_GAP),
            )
    width = MARGIN * 2 + max(len(layers), 1) * (NODE_WIDTH + COLUMN_GAP)
    height = MARGIN * 2 + max((len(names) for names in layers), default=1) * (NODE_HEIGHT + ROW_GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="breeze-graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Flow graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6366f1"/>'
        "</marker></defs>",
    ]
    for node in definition.get("nodes", []):
        x1, y1 = position[node["name"]]
        for function in node.get("functions", []):
            target = function.get("transition_to")
            if target not in position:
                continue
            x2, y2 = position[target]
            start = (x1 + NODE_WIDTH, y1 + NODE_HEIGHT // 2)
            end = (
                (x2, y2 + NODE_HEIGHT // 2) if x2 > x1 else (x2 + NODE_WIDTH // 2, y2 + NODE_HEIGHT)
            )
            parts.append(
                f'<line x1="{start[0]}" y1="{start[1]}" x2="{end[0]}" y2="{end[1]}" stroke="#a5b4fc" '
                'stroke-width="1.5" marker-end="url(#arrow)"/>'
            )
            label_x, label_y = (start[0] + end[0]) // 2, (start[1] + end[1]) // 2 - 4
            parts.append(
                f'<text x="{label_x}" y="{label_y}" font-size="10" text-anchor="middle" '
                f'fill="#475569">{escape(function["name"])}</text>'
            )
    for node in definition.get("nodes", []):
        x, y = position[node["name"]]
        is_initial = node["name"] == definition.get("initial_node")
        ends = any(
            a.get("type") == "end_conversation"
            for a in node.get("post_actions", []) + node.get("pre_actions", [])
        )
        fill = "#4f46e5" if is_initial else ("#0f766e" if ends else "#ffffff")
        text_fill = "#ffffff" if is_initial or ends else "#1e1b4b"
        parts.append(
            f'<rect x="{x}" y="{y}" rx="10" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" fill="{fill}" '
            'stroke="#4f46e5" stroke-width="1.5"/>'
        )
        parts.append(
            f'<text x="{x + NODE_WIDTH // 2}" y="{y + NODE_HEIGHT // 2 + 4}" font-size="12" '
            f'text-anchor="middle" fill="{text_fill}">{escape(node["name"])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
