"""Nested stacks with a local template are checked as one architecture with their parent.

`AWS::CloudFormation::Stack` (`TemplateURL`) and `AWS::Serverless::Application`
(`Location`) that name a local file are read and their resources added to the
parent's graph under keys `Stack/LogicalId`. References inside the child are
renamed to those keys, the child's parameters take the values the parent
passes (or their defaults), and `!GetAtt Stack.Outputs.X` in the parent
resolves to the child's output. Findings on child resources are reported in
the child's file at the child's lines. Remote templates are an info finding.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from archlint import tree
from archlint.nodes import LoadProblem, Map, Seq
from archlint.template import Resource, Template

NESTED_TYPES = {
    "AWS::CloudFormation::Stack": "TemplateURL",
    "AWS::Serverless::Application": "Location",
}
MAX_NESTING = 5
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

# Loads (and, for SAM, expands) a child template; None when it is not one.
ChildLoader = Callable[[str], Template | None]


@dataclass
class Inlined:
    template: Template
    notes: list[LoadProblem] = field(default_factory=list)


def locations(template: Template) -> dict[str, object]:
    """Template locations of the nested stacks, by logical id (before any transform)."""
    found: dict[str, object] = {}
    for resource in template.resources.values():
        prop = NESTED_TYPES.get(resource.type)
        if prop and prop in resource.properties:
            found[resource.logical_id] = resource.properties[prop]
    return found


def inline(
    template: Template,
    stack_locations: dict[str, object],
    load_child: ChildLoader,
    depth: int = 0,
    seen: frozenset[str] = frozenset(),
    roots: Sequence[str] = (),
) -> Inlined:
    """The template with the resources of its local nested stacks added.

    Local templates are read only inside the checked tree (`archlint.tree`):
    the widest of `roots` holding the template, else its repository or folder.
    """
    result = Inlined(template)
    if not stack_locations or depth >= MAX_NESTING:
        return result
    root = tree.tree_of(template.path, roots)
    # Relative to the parent as the user named it, so findings show the path
    # they would see for the child file itself.
    here = os.path.dirname(template.path) if template.path != "-" else ""
    seen = seen | {os.path.abspath(template.path)}
    for stack in list(template.resources.values()):
        if stack.type not in NESTED_TYPES or stack.logical_id not in stack_locations:
            continue
        location = stack_locations[stack.logical_id]
        function = _intrinsic(location)
        if function is not None:
            result.notes.append(
                LoadProblem(
                    "not-expanded",
                    f"nested stack {stack.logical_id}: its {NESTED_TYPES[stack.type]} is "
                    f"{function}, known only at deploy time; the template it names is not checked",
                    stack.line_of(NESTED_TYPES[stack.type]),
                    "info",
                )
            )
            continue
        if not isinstance(location, str) or not location:
            continue  # a SAR application: nothing local to follow
        if location.startswith(("http://", "https://", "s3://")):
            result.notes.append(
                LoadProblem(
                    "not-expanded",
                    f"nested stack {stack.logical_id} comes from {location}; archlint checks "
                    "only local nested templates (package them after checking)",
                    stack.line_of(NESTED_TYPES[stack.type]),
                    "info",
                )
            )
            continue
        path = os.path.normpath(os.path.join(here, location))
        if tree.escapes(location, path, root):
            result.notes.append(
                LoadProblem(
                    "not-expanded",
                    f"nested stack {stack.logical_id}: template {location} is outside the "
                    "checked tree; not read",
                    stack.line_of(NESTED_TYPES[stack.type]),
                    "info",
                )
            )
            continue
        if os.path.abspath(path) in seen or not os.path.isfile(path):
            if os.path.abspath(path) not in seen:
                result.notes.append(
                    LoadProblem(
                        "not-expanded",
                        f"nested stack {stack.logical_id}: template {location} not found",
                        stack.line_of(NESTED_TYPES[stack.type]),
                        "info",
                    )
                )
            continue
        child = load_child(path)
        if child is None:
            continue
        grandchildren = locations(child)
        child = inline(child, grandchildren, load_child, depth + 1, seen, (root,)).template
        _merge(template, stack, child)
    return result


def _intrinsic(location: object) -> str | None:
    """`Fn::Sub 'https://${Bucket}.s3.amazonaws.com/child.yaml'` for an intrinsic location."""
    if not isinstance(location, dict) or len(location) != 1:
        return None
    ((key, args),) = location.items()
    if key != "Ref" and not str(key).startswith("Fn::"):
        return None
    shown = args if isinstance(args, str) else args[0] if isinstance(args, list) and args else ""
    shown = shown if isinstance(shown, str) else ""
    shown = shown if len(shown) <= 80 else shown[:80] + "..."
    return f"{key} {shown!r}" if shown else str(key)


def _merge(parent: Template, stack: Resource, child: Template) -> None:
    prefix = f"{stack.key}/"
    renamed = {key: prefix + key for key in child.resources}
    by_logical_id = {r.logical_id: prefix + r.key for r in child.resources.values()}
    passed = stack.properties.get("Parameters")
    values = _parameter_values(child, passed if isinstance(passed, dict) else {})
    conditions = {str(name): prefix + str(name) for name in child.conditions}
    rewriter = _Rewriter(by_logical_id, values, prefix, conditions)
    # The child's conditions join the parent's under prefixed names, with the
    # parameters the parent passes inlined, so the parent's scenarios decide them.
    if conditions:
        merged_conditions = parent.root.get("Conditions")
        if not isinstance(merged_conditions, Map):
            merged_conditions = Map(None)
            parent.root["Conditions"] = merged_conditions
        for name, condition in child.conditions.items():
            merged_conditions[conditions[str(name)]] = rewriter.node(condition)
    inherited = (*stack.inherited_conditions, *((stack.condition,) if stack.condition else ()))
    for key, resource in child.resources.items():
        body = rewriter.node(resource.body)
        assert isinstance(body, Map)
        if isinstance(body.get("Condition"), str):
            body["Condition"] = conditions.get(body["Condition"], body["Condition"])
        parent.resources[renamed[key]] = Resource(
            resource.logical_id,
            resource.type,
            body,
            resource.line,
            renamed[key],
            resource.origin,
            resource.file or child.path,
            (*inherited, *(conditions.get(c, c) for c in resource.inherited_conditions)),
        )
    outputs = child.root.get("Outputs")
    if isinstance(outputs, dict):
        for name, output in outputs.items():
            if isinstance(output, dict) and "Value" in output:
                parent.nested_outputs[(stack.key, str(name))] = rewriter.node(output["Value"])
    mappings = child.root.get("Mappings")
    if isinstance(mappings, dict):
        merged = parent.root.get("Mappings")
        if not isinstance(merged, Map):
            merged = Map(None)
            parent.root["Mappings"] = merged
        for name, mapping in mappings.items():
            merged[prefix + str(name)] = mapping


def _parameter_values(child: Template, passed: dict) -> dict[str, object]:
    """What each child parameter is: the parent's value, else the child's default."""
    values: dict[str, object] = {}
    for name, parameter in child.parameters.items():
        if name in passed:
            values[str(name)] = passed[name]
        elif isinstance(parameter, dict) and "Default" in parameter:
            values[str(name)] = parameter["Default"]
    return values


def _relined(value: object, line: int | None) -> object:
    """A parent's value for a child parameter, placed where the child uses it.

    Findings on child resources are reported in the child's file: a value the
    parent passes (`!FindInMap [...]` in the parent) must carry the child's line.
    """
    if line is None:
        return value
    if isinstance(value, dict):
        copy = Map(line)
        copy.update(value)
        copy.key_lines = {key: line for key in value}
        return copy
    if isinstance(value, list):
        seq = Seq(line)
        seq.extend(value)
        seq.item_lines = [line] * len(value)
        return seq
    return value


def _named(first: list, names: dict[str, str]) -> bool:
    """Whether a one-item list holds a name of `names` (the condition of an `Fn::If`)."""
    return bool(first) and isinstance(first[0], str) and first[0] in names


class _Rewriter:
    """Copies a child's node, renaming its resources and inlining its parameters."""

    def __init__(
        self,
        resources: dict[str, str],
        parameters: dict[str, object],
        prefix: str,
        conditions: dict[str, str] | None = None,
    ):
        self.resources = resources
        self.parameters = parameters
        self.prefix = prefix
        self.conditions = conditions or {}

    def node(self, node: object) -> object:
        if isinstance(node, dict) and len(node) == 1:
            (key,) = node
            value = node[key]
            if key == "Ref" and isinstance(value, str):
                if value in self.resources:
                    return self._map(node, {"Ref": self.resources[value]})
                if value in self.parameters:
                    return _relined(self.parameters[value], getattr(node, "line", None))
            if key == "Fn::GetAtt" and isinstance(value, list) and value:
                target = value[0]
                if isinstance(target, str) and target in self.resources:
                    return self._map(node, {"Fn::GetAtt": [self.resources[target], *value[1:]]})
            if key == "Fn::Sub":
                return self._sub(node, value)
            if key == "Condition" and isinstance(value, str) and value in self.conditions:
                return self._map(node, {"Condition": self.conditions[value]})
            if (
                key == "Fn::If"
                and isinstance(value, list)
                and value
                and _named(value[0], self.conditions)
            ):
                return self._map(
                    node, {"Fn::If": [self.conditions[value[0]], *map(self.node, value[1:])]}
                )
            if key == "Fn::FindInMap" and isinstance(value, list) and value:
                mapping_name, *rest = value
                if isinstance(mapping_name, str):
                    keys = [self.node(v) for v in rest]
                    return self._map(node, {"Fn::FindInMap": [self.prefix + mapping_name, *keys]})
        if isinstance(node, dict):
            copy = Map(getattr(node, "line", None))
            for key, value in node.items():
                if key == "DependsOn":
                    value = self._depends_on(value)
                copy[key] = self.node(value)
                if isinstance(node, Map) and key in node.key_lines:
                    copy.key_lines[key] = node.key_lines[key]
            return copy
        if isinstance(node, list):
            seq = Seq(getattr(node, "line", None))
            seq.extend(self.node(v) for v in node)
            seq.item_lines = list(getattr(node, "item_lines", []))
            return seq
        return node

    def _depends_on(self, value: object) -> object:
        if isinstance(value, str):
            return self.resources.get(value, value)
        if isinstance(value, list):
            return [self.resources.get(v, v) if isinstance(v, str) else v for v in value]
        return value

    def _sub(self, node: dict, value: object) -> object:
        template, variables = (
            (value[0], value[1]) if isinstance(value, list) and len(value) == 2 else (value, {})
        )
        if not isinstance(template, str) or not isinstance(variables, dict):
            return node
        extra: dict[str, object] = {}

        def rename(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            base, dot, attribute = name.partition(".")
            if name in variables:
                return match.group(0)
            if base in self.resources:
                return "${" + self.resources[base] + dot + attribute + "}"
            if name in self.parameters:
                extra[name] = self.parameters[name]
            return match.group(0)

        text = _SUB_VARIABLE.sub(rename, template)
        merged = {k: self.node(v) for k, v in variables.items()} | extra
        return self._map(node, {"Fn::Sub": [text, merged] if merged else text})

    @staticmethod
    def _map(original: object, content: dict) -> Map:
        mapping = Map(getattr(original, "line", None))
        mapping.update(content)
        return mapping
