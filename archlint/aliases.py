"""YAML aliases: refused when a node contains itself, or when they expand too far.

PyYAML composes an alias as the very node object it names, so the composed
document is a graph: a DAG when aliases are shared, a cycle when an alias
names one of its own ancestors (`x: &a [*a]`), whose expansion never ends.
"""

from __future__ import annotations

import re

import yaml

from archlint.nodes import LoadProblem

MAX_EXPANDED_NODES = 2_000_000


def expansion_problem(root: yaml.Node, text: str) -> LoadProblem | None:
    """Refuse a node that contains itself, and aliases that expand past MAX_EXPANDED_NODES.

    One depth-first walk over the node graph: a child that is still on the
    walk's path is an alias to an ancestor (`x: &a [*a]`), which no
    expansion ends. Sizes are memoised per node object, so a
    billion-laughs document is measured in time linear in its text, not in
    its expansion.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = {id(root)}
    stack: list[tuple[yaml.Node, list[yaml.Node], int]] = [(root, _children(root), 0)]
    while stack:
        node, children, index = stack[-1]
        while index < len(children):
            child = children[index]
            index += 1
            key = id(child)
            if key in sizes:
                continue
            if key in on_path:
                return _cycle_problem(child, text)
            if isinstance(child, yaml.ScalarNode):
                sizes[key] = 1
                continue
            stack[-1] = (node, children, index)
            on_path.add(key)
            stack.append((child, _children(child), 0))
            break
        else:
            stack.pop()
            on_path.discard(id(node))
            total = 1 + sum(sizes[id(c)] for c in children)
            sizes[id(node)] = min(total, MAX_EXPANDED_NODES + 1)
    if sizes.get(id(root), 1) > MAX_EXPANDED_NODES:
        return LoadProblem(
            "too-large",
            "YAML aliases expand to more than "
            f"{MAX_EXPANDED_NODES:,} values (an alias bomb); refusing to expand",
            1,
        )
    return None


_ANCHOR = re.compile(r"&([^\s,\[\]{}]{1,100})")


def _cycle_problem(node: yaml.Node, text: str) -> LoadProblem:
    """A node that contains itself through an alias, at the line of its anchor."""
    mark = node.start_mark
    anchor = _ANCHOR.match(text, mark.index) if 0 <= mark.index < len(text) else None
    name = f"&{anchor.group(1)} " if anchor else ""
    return LoadProblem(
        "too-large",
        f"YAML node {name}at line {mark.line + 1} contains itself through an alias: "
        "it has no finite value; refusing to expand it",
        mark.line + 1,
    )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []
