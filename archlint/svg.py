"""A resource graph as a picture: a layered layout computed here, drawn as inline SVG.

`drawing(graph, gaps)` picks what `archlint graph` draws (render.py: the
semantic edges, the resources they join, a dashed red "missing" box per
conformance gap next to what it should connect) and lays it out left to
right: cycles broken by a depth-first search, each resource in the layer of
the longest path reaching it, each layer ordered by the mean position of its
neighbours in the layer before (and after, sweeping back), a few sweeps. The
result is plain data (`Drawing`); `to_svg` writes it, every template-derived
string escaped (logical ids and types are the pull request author's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from archlint.conformance import Gap
from archlint.graph import ResourceGraph
from archlint.render import _edges, _missing, _nodes
from archlint.reporters.safe import visible

# Above this many boxes the picture is not drawn: nobody reads it, and layout costs.
MAX_BOXES = 250
BOX_H = 42
ROW_GAP = 26
LAYER_GAP = 110
MARGIN = 24
CHAR_W = 7.5  # of the bold 12px sans-serif labels, near enough for box widths
MAX_LABEL = 40
SWEEPS = 6


@dataclass(frozen=True)
class Box:
    id: str
    title: str  # logical id, or "missing (ENTRY)"
    subtitle: str  # resource type, or the missing type
    x: float
    y: float
    w: float
    h: float
    missing: bool = False


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    kind: str
    path: str  # SVG path data
    label_x: float
    label_y: float
    missing: bool = False


@dataclass(frozen=True)
class Drawing:
    architectures: tuple[str, ...]
    width: float
    height: float
    boxes: tuple[Box, ...] = ()
    arrows: tuple[Arrow, ...] = ()
    note: str = ""  # why nothing is drawn


def drawing(graph: ResourceGraph, gaps: list[Gap], architectures: tuple[str, ...]) -> Drawing:
    """The layout of the graph `archlint graph` draws, with the gaps as missing boxes."""
    edges = _edges(graph, False)
    labels: dict[str, tuple[str, str, bool]] = {
        key: (resource.logical_id, resource.type, False)
        for key, resource in _nodes(graph, edges, False)
    }
    arrows = [(s, t, k, False) for s, t, k in edges]
    for (node, _label, attach, kind), gap in zip(_missing(graph, gaps), gaps, strict=True):
        while node in graph.template.resources:  # a resource may be named "missing1"
            node = f"_{node}"
        what = gap.missing_type or gap.message.split(";")[0]
        labels[node] = (f"missing ({gap.entry})", what, True)
        if attach and attach in graph.template.resources:
            if attach not in labels:
                resource = graph.template.resources[attach]
                labels[attach] = (resource.logical_id, resource.type, False)
            arrows.append((attach, node, kind or "only if", True))
    if not labels:
        return Drawing(architectures, 0, 0, note="no connected resources to draw")
    if len(labels) > MAX_BOXES:
        return Drawing(
            architectures, 0, 0, note=f"{len(labels)} resources: too many to draw (>{MAX_BOXES})"
        )
    return _lay_out(labels, arrows, architectures)


def _clip(text: str) -> str:
    text = visible(text)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "\u2026"


def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layers of the graph without the back edges of a depth-first search."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target in edges:
        if source != target:
            successors[source].append(target)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    order: list[str] = []  # reverse topological (post-order) of the acyclic part
    forward: dict[str, list[str]] = {n: [] for n in nodes}
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(successors[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                order.append(node)
                stack.pop()
            elif state.get(child) == 1:
                continue  # a back edge: left out of the layering
            else:
                forward[node].append(child)
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(successors[child])))
    layer = dict.fromkeys(nodes, 0)
    for node in reversed(order):
        for child in forward[node]:
            layer[child] = max(layer[child], layer[node] + 1)
    # A resource nothing points at sits just before the first thing it points at
    # (an API's stage beside the API, not in a crowded first column).
    pointed = {child for children in forward.values() for child in children}
    for node in order:  # successors first
        if node not in pointed and forward[node]:
            layer[node] = min(layer[child] for child in forward[node]) - 1
    return layer


def _order(layers: list[list[str]], edges: list[tuple[str, str]]) -> None:
    """Barycentric ordering of each layer, sweeping forward then back, in place."""
    before: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    for source, target in edges:
        after.setdefault(source, []).append(target)
        before.setdefault(target, []).append(source)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        indices = range(1, len(layers)) if forward else range(len(layers) - 2, -1, -1)
        for i in indices:
            position = {n: p for p, n in enumerate(layers[i - 1 if forward else i + 1])}
            neighbours = before if forward else after
            current = {n: p for p, n in enumerate(layers[i])}

            def centre(node: str, position=position, neighbours=neighbours, current=current):
                seen = [position[n] for n in neighbours.get(node, ()) if n in position]
                return (sum(seen) / len(seen) if seen else current[node], current[node])

            layers[i].sort(key=centre)


def _lay_out(
    labels: dict[str, tuple[str, str, bool]],
    arrows: list[tuple[str, str, str, bool]],
    architectures: tuple[str, ...],
) -> Drawing:
    nodes = list(labels)
    pairs = [(s, t) for s, t, _, _ in arrows]
    layer_of = _layers(nodes, pairs)
    layers: list[list[str]] = [[] for _ in range(max(layer_of.values()) + 1)]
    for node in nodes:
        layers[layer_of[node]].append(node)
    layers = [layer for layer in layers if layer]
    _order(layers, pairs)
    width_of = {
        n: max(len(_clip(labels[n][0])), len(_clip(labels[n][1]))) * CHAR_W + 20 for n in nodes
    }
    tallest = max(len(layer) for layer in layers)
    height = 2 * MARGIN + tallest * BOX_H + (tallest - 1) * ROW_GAP
    boxes: dict[str, Box] = {}
    x = MARGIN
    for layer in layers:
        column = max(width_of[n] for n in layer)
        used = len(layer) * BOX_H + (len(layer) - 1) * ROW_GAP
        y = (height - used) / 2
        for node in layer:
            title, subtitle, missing = labels[node]
            w = width_of[node]
            boxes[node] = Box(node, title, subtitle, x + (column - w) / 2, y, w, BOX_H, missing)
            y += BOX_H + ROW_GAP
        x += column + LAYER_GAP
    drawn = [_arrow(boxes[s], boxes[t], kind, missing) for s, t, kind, missing in arrows]
    ordered = sorted(boxes.values(), key=lambda b: (b.x, b.y))
    return Drawing(architectures, x - LAYER_GAP + MARGIN, height, tuple(ordered), tuple(drawn))


def _arrow(source: Box, target: Box, kind: str, missing: bool) -> Arrow:
    if target.x > source.x + source.w:  # forward: right side to left side
        x1, y1 = source.x + source.w, source.y + source.h / 2
        x2, y2 = target.x, target.y + target.h / 2
        bend = max(30.0, (x2 - x1) / 2)
        path = (
            f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} "
            f"{x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        )
        return Arrow(source.id, target.id, kind, path, (x1 + x2) / 2, (y1 + y2) / 2 - 4, missing)
    # Back or within a layer: from the bottom of one to the bottom of the other, bowed down.
    x1, y1 = source.x + source.w / 2, source.y + source.h
    x2, y2 = target.x + target.w / 2, target.y + target.h
    drop = 30 + math.hypot(x2 - x1, y2 - y1) / 6
    low = max(y1, y2) + drop
    path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{low:.1f} {x2:.1f},{low:.1f} {x2:.1f},{y2:.1f}"
    return Arrow(source.id, target.id, kind, path, (x1 + x2) / 2, low - drop / 4, missing)


def to_svg(picture: Drawing, ident: str) -> str:
    """Inline SVG markup (no namespace URL needed in HTML); `ident` keeps ids unique in a page."""
    marker, red = f"{ident}-arrow", f"{ident}-arrow-missing"
    height = picture.height + 40  # room for arrows bowed below the lowest box
    out = [
        f'<svg class="graph" id="{ident}" role="img" width="{picture.width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {picture.width:.0f} {height:.0f}">',
        "<defs>",
        f'<marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker>',
        f'<marker id="{red}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#c00"/></marker>',
        "</defs>",
    ]
    for arrow in picture.arrows:
        css = "edge missing" if arrow.missing else "edge"
        out.append(
            f'<g class="{css}" data-source="{_a(arrow.source)}" data-target="{_a(arrow.target)}" '
            f'data-kind="{_a(arrow.kind)}" data-missing="{str(arrow.missing).lower()}">'
            f'<path d="{arrow.path}" marker-end="url(#{red if arrow.missing else marker})"/>'
            f'<text x="{arrow.label_x:.1f}" y="{arrow.label_y:.1f}" text-anchor="middle">'
            f"{_t(arrow.kind)}</text></g>"
        )
    for box in picture.boxes:
        css = "node missing" if box.missing else "node"
        cx = box.x + box.w / 2
        out.append(
            f'<g class="{css}" data-id="{_a(box.id)}" data-missing="{str(box.missing).lower()}">'
            f"<title>{_t(box.title)} ({_t(box.subtitle)})</title>"
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
            'rx="5"/>'
            f'<text class="id" x="{cx:.1f}" y="{box.y + 17:.1f}" text-anchor="middle">'
            f"{_t(_clip(box.title))}</text>"
            f'<text class="type" x="{cx:.1f}" y="{box.y + 33:.1f}" text-anchor="middle">'
            f"{_t(_clip(box.subtitle))}</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _t(text: str) -> str:
    return escape(visible(text), quote=False)


def _a(text: str) -> str:
    return escape(visible(text), quote=True)


# -- what the HTML report shows of a file beyond its findings ---------------------------


@dataclass(frozen=True)
class FileView:
    """Plain data for the HTML report: the file's lines around its findings, its picture."""

    lines: dict[int, str]
    drawing: Drawing | None = None
    note: str = ""


def file_view(path: str, architectures: list[str], wanted: set[int]) -> FileView:
    """Read `path` again (a regular file, within the size limit) for the report's excerpts
    and, when the template is checked against an architecture, its picture.

    Never raises: what made the check fail is its finding; here it only leaves
    the picture (or the excerpts) out, with a note.
    """
    from archlint import cdk, sam
    from archlint.conformance import gaps
    from archlint.engine import read
    from archlint.rule import ARCHITECTURES
    from archlint.template import Template

    try:
        data = read(path)
    except OSError as error:
        return FileView({}, note=f"cannot read the file again: {error.strerror}")
    try:
        template = Template.from_bytes(path, data)
        text = template.text
    except Exception:
        return FileView(_excerpts(data.decode("utf-8", "replace"), wanted))
    lines = _excerpts(text, wanted)
    try:
        declared = [a for a in template.declared_architectures() if a in ARCHITECTURES]
        names = tuple(sorted({*architectures, *declared}))
        if not names or not template.resources:
            return FileView(lines)
        cdk.inline_bucket_notifications(template)
        if sam.is_sam(template):
            expanded = sam.expand(template).template
            if expanded is None:
                return FileView(lines, note="no picture: the SAM translator rejects the template")
            template = expanded
        graph = ResourceGraph(template, names)
        found = [gap for name in names for gap in gaps(graph, name)]
        return FileView(lines, drawing(graph, found, names))
    except Exception as error:
        return FileView(lines, note=f"no picture: {type(error).__name__} while drawing it")


def _excerpts(text: str, wanted: set[int]) -> dict[int, str]:
    lines = text.splitlines()
    return {n: lines[n - 1] for n in sorted(wanted) if 1 <= n <= len(lines)}
