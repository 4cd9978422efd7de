"""Thin read-only views over a loaded CloudFormation template.

`Template.from_bytes` turns a file into resources with logical ids, types,
properties and lines, plus the problems a user must fix before anything else
can be checked (no `Resources`, a resource without `Type`, ...). Nothing
here resolves intrinsic functions: that is `values`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from archlint.loader import load
from archlint.nodes import LoadProblem, Map, Seq

EMPTY = Map()
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"

TEMPLATE_SECTIONS = (
    "AWSTemplateFormatVersion",
    "Resources",
    "Parameters",
    "Transform",
    "Outputs",
    "Conditions",
    "Mappings",
    "Metadata",
    "Description",
    "Rules",
)


@dataclass
class Resource:
    """One resource as the user wrote it."""

    logical_id: str
    type: str
    body: Map
    line: int | None
    # The graph node name: the logical id, except for a duplicate definition
    # of the same id, which is checked too under a distinct key.
    key: str = ""
    # For resources generated from another (SAM), the one the user wrote.
    origin: str | None = None
    # For resources of a nested stack's template, that template's path.
    file: str | None = None
    # Conditions of the nested stack resources this one comes from: it exists
    # only where they hold (its own `Condition` comes on top).
    inherited_conditions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            self.key = self.logical_id

    @property
    def properties(self) -> Map:
        props = self.body.get("Properties")
        return props if isinstance(props, Map) else EMPTY

    @property
    def metadata(self) -> Map:
        meta = self.body.get("Metadata")
        return meta if isinstance(meta, Map) else EMPTY

    @property
    def condition(self) -> str | None:
        cond = self.body.get("Condition")
        return cond if isinstance(cond, str) else None

    @property
    def depends_on(self) -> list[str]:
        deps = self.body.get("DependsOn")
        if isinstance(deps, str):
            return [deps]
        if isinstance(deps, list):
            return [d for d in deps if isinstance(d, str)]
        return []

    def line_of(self, *path: str) -> int | None:
        """Line of a property path (keys of nested mappings), or the nearest known."""
        node: object = self.properties
        line = self.body.line_of("Properties") if "Properties" in self.body else self.line
        for key in path:
            if not isinstance(node, Map) or key not in node:
                break
            line = node.line_of(key) or line
            node = node[key]
        return line


@dataclass
class Template:
    """A parsed template: its sections and resources, or why it has none."""

    path: str
    root: Map
    text: str = ""
    problems: list[LoadProblem] = field(default_factory=list)
    resources: dict[str, Resource] = field(default_factory=dict)
    # `!GetAtt Stack.Outputs.Name` of inlined nested stacks: (stack key, name) -> value.
    nested_outputs: dict[tuple[str, str], object] = field(default_factory=dict)
    _by_type: dict[str, list[Resource]] | None = field(default=None, repr=False)
    _indexed: int = field(default=-1, repr=False)

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> Template:
        loaded = load(data)
        root = loaded.root if isinstance(loaded.root, Map) else Map(1)
        template = cls(path, root, loaded.text, list(loaded.problems))
        if loaded.root is not None and not isinstance(loaded.root, Map):
            template.problems.append(
                LoadProblem(
                    "not-template",
                    f"top level is a {_kind(loaded.root)}, not a mapping of template sections",
                    getattr(loaded.root, "line", 1),
                )
            )
        elif loaded.root is not None:
            template._read_resources()
        return template

    def _read_resources(self) -> None:
        resources = self.root.get("Resources")
        if "Resources" not in self.root:
            self.problems.append(
                LoadProblem("not-template", "template has no Resources section", 1)
            )
            return
        line = self.root.line_of("Resources")
        if not isinstance(resources, Map):
            self.problems.append(
                LoadProblem(
                    "not-template",
                    f"Resources is a {_kind(resources)}, not a mapping of logical ids to resources",
                    line,
                )
            )
            return
        if not resources:
            self.problems.append(
                LoadProblem("not-template", "Resources is empty: a stack needs one resource", line)
            )
        entries = [(k, v, resources.line_of(k)) for k, v in resources.items()]
        entries += resources.duplicates
        seen: dict[str, int] = {}
        for logical_id, body, res_line in entries:
            logical_id = str(logical_id)
            seen[logical_id] = seen.get(logical_id, 0) + 1
            key = logical_id if seen[logical_id] == 1 else f"{logical_id}#{seen[logical_id]}"
            if logical_id.startswith("Fn::ForEach::") and LANGUAGE_EXTENSIONS in self.transforms:
                # A loop that AWS::LanguageExtensions expands at deploy time.
                self.problems.append(
                    LoadProblem(
                        "not-expanded",
                        f"{logical_id} is expanded by AWS::LanguageExtensions at deploy time; "
                        "the resources it generates are not checked",
                        res_line,
                        "info",
                    )
                )
                continue
            if not isinstance(body, Map):
                self.problems.append(
                    LoadProblem(
                        "invalid-resource",
                        f"resource {logical_id} is a {_kind(body)}, not a mapping with a Type",
                        res_line,
                    )
                )
                continue
            rtype = body.get("Type")
            if isinstance(rtype, dict) and "Rain::Module" in rtype:
                # Rain modules are expanded by `rain pkg` before deployment.
                self.problems.append(
                    LoadProblem(
                        "not-expanded",
                        f"resource {logical_id} is a Rain module ({rtype['Rain::Module']}); "
                        "archlint checks it after `rain pkg` expands it",
                        body.line or res_line,
                        "info",
                    )
                )
                continue
            if not isinstance(rtype, str) or not rtype:
                self.problems.append(
                    LoadProblem(
                        "invalid-resource",
                        f"resource {logical_id} has no Type; CloudFormation rejects it",
                        body.line or res_line,
                    )
                )
                continue
            self.resources[key] = Resource(logical_id, rtype, body, res_line, key)

    # -- sections -----------------------------------------------------------

    def section(self, name: str) -> Map:
        value = self.root.get(name)
        return value if isinstance(value, Map) else EMPTY

    @property
    def parameters(self) -> Map:
        return self.section("Parameters")

    @property
    def conditions(self) -> Map:
        return self.section("Conditions")

    @property
    def mappings(self) -> Map:
        return self.section("Mappings")

    @property
    def metadata(self) -> Map:
        return self.section("Metadata")

    @property
    def transforms(self) -> list[str]:
        value = self.root.get("Transform")
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return []

    @property
    def is_template(self) -> bool:
        return bool(self.resources) or "Resources" in self.root

    def of_type(self, *types: str) -> Iterator[Resource]:
        """Resources of these types, in template order (indexed: rules ask often)."""
        index = self._by_type
        if index is None or self._indexed != len(self.resources):
            index = {}
            for resource in self.resources.values():
                index.setdefault(resource.type, []).append(resource)
            self._by_type, self._indexed = index, len(self.resources)
        if len(types) == 1:
            return iter(index.get(types[0], ()))
        wanted = set(types)
        return (r for r in self.resources.values() if r.type in wanted)

    def archlint_metadata(self) -> Map:
        value = self.metadata.get("archlint")
        return value if isinstance(value, Map) else EMPTY

    def declared_architectures(self) -> list[str]:
        value = self.archlint_metadata().get("architectures")
        if isinstance(value, str):
            return [value]
        if isinstance(value, Seq):
            return [v for v in value if isinstance(v, str)]
        return []


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, (list, Seq)):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"
