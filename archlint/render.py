"""Draw a template's resource graph: Mermaid, Graphviz DOT or JSON.

Semantic edges are drawn with their kind as the label; syntactic references
only with `all_edges`. Conformance gaps against a reference architecture are
drawn as dashed red "missing" nodes attached to what they should connect.
"""

from __future__ import annotations

import json
import re

from archlint.conformance import PLUMBING_KINDS, Gap
from archlint.graph import ResourceGraph

SYNTACTIC = frozenset({"ref", "getatt", "sub", "depends_on"})


def _edges(graph: ResourceGraph, all_edges: bool) -> list[tuple[str, str, str]]:
    seen: set[tuple[str, str, str]] = set()
    for source, target, data in graph.g.edges(data=True):
        kind = data["kind"]
        if not all_edges and (kind in SYNTACTIC or kind in PLUMBING_KINDS):
            continue
        seen.add((source, target, kind))
    return sorted(seen)


def _nodes(graph: ResourceGraph, edges: list[tuple[str, str, str]], all_edges: bool):
    """Resources to draw: all of them with `all_edges`, else those with a drawn edge."""
    connected = {n for s, t, _ in edges for n in (s, t)}
    return [
        (key, resource)
        for key, resource in graph.template.resources.items()
        if all_edges or key in connected
    ]


def _missing(graph: ResourceGraph, gaps: list[Gap]) -> list[tuple[str, str, str | None, str]]:
    """(missing node id, label, existing node it attaches to, edge kind) per conformance gap."""
    out = []
    for index, gap in enumerate(gaps):
        what = gap.missing_type or gap.message.split(";")[0]
        label = f"missing ({gap.entry}): {what}"
        out.append((f"missing{index + 1}", label, gap.resource, gap.kind))
    return out


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


def mermaid(graph: ResourceGraph, gaps: list[Gap], all_edges: bool = False) -> str:
    lines = ["flowchart LR"]
    edges = _edges(graph, all_edges)
    for key, resource in _nodes(graph, edges, all_edges):
        lines.append(f'  {_safe(key)}["{resource.logical_id}<br/><small>{resource.type}</small>"]')
    for source, target, kind in edges:
        lines.append(f"  {_safe(source)} -->|{kind}| {_safe(target)}")
    for node, label, attach, kind in _missing(graph, gaps):
        lines.append(f'  {node}["{label}"]:::missing')
        if attach:
            lines.append(f"  {_safe(attach)} -.->|{kind}| {node}")
    if gaps:
        lines.append(
            "  classDef missing stroke:#d00,stroke-width:2px,stroke-dasharray:5 5,color:#d00"
        )
    return "\n".join(lines) + "\n"


def dot(graph: ResourceGraph, gaps: list[Gap], all_edges: bool = False) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph archlint {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    edges = _edges(graph, all_edges)
    for key, resource in _nodes(graph, edges, all_edges):
        label = quote(resource.logical_id)[:-1] + "\\n" + resource.type + '"'
        lines.append(f"  {quote(key)} [label={label}];")
    for source, target, kind in edges:
        lines.append(f"  {quote(source)} -> {quote(target)} [label={quote(kind)}];")
    for node, label, attach, kind in _missing(graph, gaps):
        lines.append(
            f"  {quote(node)} [label={quote(label)}, color=red, fontcolor=red, style=dashed];"
        )
        if attach:
            style = "color=red, style=dashed"
            lines.append(f"  {quote(attach)} -> {quote(node)} [label={quote(kind)}, {style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def as_json(graph: ResourceGraph, gaps: list[Gap], all_edges: bool = False) -> str:
    data = {
        "nodes": [
            {"id": key, "logical_id": r.logical_id, "type": r.type, "line": r.line}
            for key, r in graph.template.resources.items()
        ],
        "edges": [{"source": s, "target": t, "kind": k} for s, t, k in _edges(graph, all_edges)],
        "missing": [
            {"id": node, "label": label, "attach_to": attach, "kind": kind}
            for node, label, attach, kind in _missing(graph, gaps)
        ],
    }
    return json.dumps(data, indent=2) + "\n"


RENDERERS = {"mermaid": mermaid, "dot": dot, "json": as_json}
