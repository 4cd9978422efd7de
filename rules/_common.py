"""Small helpers the catalogue's rules share: how values are shown, counted and placed."""

from __future__ import annotations

from archlint.graph import ResourceGraph
from archlint.nodes import Map
from archlint.template import Resource
from archlint.values import Lit, Value

TRUE = (True, "true", "True")
FALSE = (False, "false", "False")


def unique(resources: list[Resource]) -> list[Resource]:
    return list({r.key: r for r in resources}.values())


def origin_of(value: Value) -> str:
    """` (default of parameter X)` for a value that came from a parameter default."""
    return f" ({value.origin})" if isinstance(value, Lit) and value.origin else ""


def number(value: Value) -> float | None:
    if isinstance(value, Lit) and not isinstance(value.value, bool):
        try:
            return float(value.value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
    return None


def key_line(node: object, key: str, default: int | None) -> int | None:
    """Line of `key` in a mapping (where a user edits it), else `default`."""
    return node.line_of(key) if isinstance(node, Map) and key in node else default


def resources_line(graph: ResourceGraph) -> int | None:
    """Where template-level findings point: the `Resources` section."""
    return graph.template.root.line_of("Resources")


def refers_to_type(graph: ResourceGraph, value: Value, types: tuple[str, ...]) -> bool:
    """Whether a value names a resource of one of `types` in the template."""
    return any(graph.type_of(key) in types for key in graph.targets_of(value))
