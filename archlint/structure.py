"""Templates CloudFormation rejects before it creates anything (AL003, with the line).

`check(template)` looks once at the whole template for what no deployment
survives: a `Ref`, `Fn::GetAtt` or `Fn::Sub` variable naming nothing the
template defines, a `DependsOn` naming no resource, resources or conditions
that depend on themselves, a `Condition` naming no condition, a malformed
`Fn::Sub`, `Fn::GetAtt` or `Fn::If`, a `Ref` to a list or a mapping, resource
attributes of the wrong shape, intrinsic functions inside `Mappings`.

Rules never see these: without this check a template that cannot be
deployed would pass. The engine runs it on the template as CloudFormation
sees it (for SAM, the translator's output, so resources SAM generates are
defined) and not on templates with other transforms: a macro may define
anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from archlint.nodes import Map, line_of
from archlint.template import Template

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
RESOURCE_ATTRIBUTES = frozenset(
    {
        "Type",
        "Properties",
        "DependsOn",
        "Metadata",
        "Condition",
        "DeletionPolicy",
        "UpdatePolicy",
        "UpdateReplacePolicy",
        "CreationPolicy",
        "Version",  # custom resources
        "Connectors",  # SAM, translated away
        "IgnoreGlobals",
    }
)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_UNCLOSED = re.compile(r"\$\{(?!!)")
_VARIABLE_NAME = re.compile(r"[\w.:]+")


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None
    resource: str | None = None


def check(template: Template) -> list[Problem]:
    """Every structural error of the template, in template order."""
    return _Structure(template).run()


class _Structure:
    def __init__(self, template: Template) -> None:
        self.template = template
        root = template.root
        resources = root.get("Resources")
        self.resources: set[str] = set()
        if isinstance(resources, Map):
            self.resources = {str(k) for k in resources} | {str(d[0]) for d in resources.duplicates}
        self.parameters = {str(k) for k in template.parameters}
        self.conditions = {str(k) for k in template.conditions}
        self.problems: list[Problem] = []
        # (source, target) -> line of the first reference, for cycles.
        self.resource_edges: dict[tuple[str, str], int | None] = {}
        self.condition_edges: dict[tuple[str, str], int | None] = {}

    def run(self) -> list[Problem]:
        for resource in self.template.resources.values():
            self._resource(resource.logical_id, resource.body, resource.line)
        outputs = self.template.root.get("Outputs")
        if isinstance(outputs, dict):
            for name, output in outputs.items():
                if isinstance(output, dict):
                    line = line_of(output, _key_line(outputs, name))
                    self._condition_attribute(output, f"output {name}", line, None)
                    for key, value in output.items():
                        if key != "Condition":
                            self._walk(value, _key_line(output, key) or line, None)
        for name, definition in self.template.conditions.items():
            line = self.template.conditions.line_of(name)
            self._walk(definition, line_of(definition, line), None, condition=str(name))
        self._mappings()
        self._cycles(self.resource_edges, "resources", "a circular dependency")
        self._cycles(self.condition_edges, "conditions", "a circular condition")
        self.problems.sort(key=lambda p: (p.line or 0, p.message))
        return self.problems

    # -- resources ----------------------------------------------------------

    def _resource(self, logical_id: str, body: Map, line: int | None) -> None:
        for key in body:
            if key not in RESOURCE_ATTRIBUTES and key != "Fn::Transform":  # AWS::Include
                self._error(
                    f"resource {logical_id} has an attribute {key!r}, which CloudFormation does "
                    "not know (Properties, DependsOn, Condition, Metadata, ...)",
                    body.line_of(key),
                    logical_id,
                )
        for key in ("Properties", "Metadata"):
            if key in body and not isinstance(body[key], dict):
                self._error(
                    f"{key} of resource {logical_id} is {_kind(body[key])}, not a mapping",
                    body.line_of(key),
                    logical_id,
                )
        self._depends_on(logical_id, body)
        self._condition_attribute(body, f"resource {logical_id}", line, logical_id)
        for key, value in body.items():
            if key not in ("Type", "DependsOn", "Condition", "Fn::Transform"):
                self._walk(value, line_of(value, body.line_of(key)), logical_id)

    def _depends_on(self, logical_id: str, body: Map) -> None:
        if "DependsOn" not in body:
            return
        value = body["DependsOn"]
        line = body.line_of("DependsOn")
        names = [value] if isinstance(value, str) else value if isinstance(value, list) else None
        if names is None or not all(isinstance(n, str) for n in names):
            self._error(
                f"DependsOn of resource {logical_id} is {_kind(value)}; it takes a logical id "
                "or a list of logical ids",
                line,
                logical_id,
            )
            return
        for index, name in enumerate(names):
            item_line = value.line_of(index) if hasattr(value, "line_of") else line
            if name in self.resources:
                self.resource_edges.setdefault((logical_id, name), item_line)
            else:
                self._error(
                    f"resource {logical_id} DependsOn {name}, which is not a resource of "
                    "the template",
                    item_line,
                    logical_id,
                )

    def _condition_attribute(
        self, body: dict, what: str, line: int | None, resource: str | None
    ) -> None:
        if "Condition" not in body:
            return
        name = body["Condition"]
        where = body.line_of("Condition") if isinstance(body, Map) else line
        if not isinstance(name, str):
            self._error(f"the Condition of {what} is {_kind(name)}, not a name", where, resource)
        elif name not in self.conditions:
            self._error(
                f"{what} has Condition {name}, which is not defined in Conditions",
                where,
                resource,
            )

    # -- intrinsic functions ------------------------------------------------------

    def _walk(
        self, node: object, line: int | None, source: str | None, condition: str | None = None
    ) -> None:
        """Check every intrinsic under `node`; `source` is the resource it belongs to."""
        stack: list[tuple[object, int | None]] = [(node, line)]
        while stack:
            current, where = stack.pop()
            if isinstance(current, list):
                stack.extend(
                    (item, line_of(item, _index_line(current, i) or where))
                    for i, item in enumerate(current)
                )
                continue
            if not isinstance(current, dict):
                continue
            where = line_of(current, where)
            if len(current) == 1:
                ((key, args),) = current.items()
                handler = _HANDLERS.get(str(key))
                if key == "Condition" and condition is not None:
                    handler = _Structure._condition_function
                if handler is not None:
                    stack.extend(handler(self, args, where, source, condition))
                    continue
            stack.extend(
                (value, line_of(value, _key_line(current, k) or where))
                for k, value in current.items()
            )

    def _ref(
        self, args: object, line: int | None, source: str | None, condition: str | None
    ) -> Iterator[tuple[object, int | None]]:
        if not isinstance(args, str):
            self._error(f"Ref takes one name, not {_kind(args)}", line, source)
            return
        if args in self.resources:
            if condition is not None:
                self._error(
                    f"condition {condition} refers to resource {args}; conditions can test "
                    "only parameters and pseudo parameters",
                    line,
                )
            elif source is not None:
                self.resource_edges.setdefault((source, args), line)
        elif args not in self.parameters and args not in PSEUDO_PARAMETERS:
            self._error(
                f"Ref to {args}, which is no resource, parameter or pseudo parameter of the "
                "template",
                line,
                source,
            )
        yield from ()

    def _getatt(
        self, args: object, line: int | None, source: str | None, condition: str | None
    ) -> Iterator[tuple[object, int | None]]:
        parts = args.split(".", 1) if isinstance(args, str) else args
        if not isinstance(parts, list) or len(parts) != 2 or parts[1] in ("", None):
            self._error("Fn::GetAtt takes a resource and an attribute name", line, source)
            return
        target = parts[0]
        if isinstance(target, str):
            self._target(target, line, source, "Fn::GetAtt of")
        yield (parts[1], line)

    def _target(self, name: str, line: int | None, source: str | None, what: str) -> None:
        if name in self.resources:
            if source is not None:
                self.resource_edges.setdefault((source, name), line)
        elif name in self.parameters:
            self._error(
                f"{what} {name}, which is a parameter; only resources have attributes",
                line,
                source,
            )
        else:
            self._error(f"{what} {name}, which is not a resource of the template", line, source)

    def _sub(
        self, args: object, line: int | None, source: str | None, condition: str | None
    ) -> Iterator[tuple[object, int | None]]:
        variables: dict = {}
        if isinstance(args, list):
            if len(args) != 2 or not isinstance(args[0], str) or not isinstance(args[1], dict):
                self._error(
                    "Fn::Sub takes a string, or a string and a mapping of variables",
                    line,
                    source,
                )
                return
            args, variables = args
            yield (variables, line)
        if not isinstance(args, str):
            return  # another intrinsic: nothing to read before it is resolved
        for match in _SUB_VARIABLE.finditer(args):
            name = match.group(1)
            if name.startswith("!"):
                continue
            name = name.strip()
            if not _VARIABLE_NAME.fullmatch(name):
                self._error(
                    f"Fn::Sub variable ${{{name[:40]}}}: variable names take only letters, "
                    "digits, '_', '.' and ':' (write ${!...} for a literal ${...})",
                    line,
                    source,
                )
            elif name in variables or name in self.parameters or name in PSEUDO_PARAMETERS:
                continue
            elif "." in name:
                self._target(name.split(".", 1)[0], line, source, f"Fn::Sub variable ${{{name}}}:")
            elif name in self.resources:
                if source is not None:
                    self.resource_edges.setdefault((source, name), line)
            else:
                self._error(
                    f"Fn::Sub variable ${{{name}}} is no resource, parameter, pseudo parameter "
                    "or variable of the Fn::Sub",
                    line,
                    source,
                )
        rest = _SUB_VARIABLE.sub("", args)
        unclosed = _UNCLOSED.search(rest)
        if unclosed is not None:
            shown = rest[unclosed.start() : unclosed.start() + 30]
            self._error(f"Fn::Sub has an unclosed variable: {shown!r}", line, source)

    def _if(
        self, args: object, line: int | None, source: str | None, condition: str | None
    ) -> Iterator[tuple[object, int | None]]:
        if not isinstance(args, list) or len(args) != 3 or not isinstance(args[0], str):
            self._error(
                "Fn::If takes [condition name, value if true, value if false]", line, source
            )
            return
        if args[0] not in self.conditions:
            self._error(f"Fn::If tests {args[0]}, which is not a condition", line, source)
        elif condition is not None:
            self.condition_edges.setdefault((condition, args[0]), line)
        yield (args[1], line)
        yield (args[2], line)

    def _condition_function(
        self, args: object, line: int | None, source: str | None, condition: str | None
    ) -> Iterator[tuple[object, int | None]]:
        if not isinstance(args, str):
            self._error(f"Condition takes a condition name, not {_kind(args)}", line)
        elif args not in self.conditions:
            self._error(f"condition {condition} uses {args}, which is not a condition", line)
        elif condition is not None:
            self.condition_edges.setdefault((condition, args), line)
        yield from ()

    def _skip(
        self, args: object, line: int | None, source: str | None, condition: str | None
    ) -> Iterator[tuple[object, int | None]]:
        yield from ()  # AWS::Include and macros: their parameters are not intrinsics

    # -- sections ---------------------------------------------------------------

    def _mappings(self) -> None:
        mappings = self.template.root.get("Mappings")
        if not isinstance(mappings, Map):
            return
        for name, mapping in mappings.items():
            if not isinstance(mapping, Map):
                self._error(f"mapping {name} is {_kind(mapping)}, not a mapping of keys", None)
                continue
            for top, entries in mapping.items():
                if not isinstance(entries, Map):
                    continue
                for second, value in entries.items():
                    if isinstance(value, dict) or value is None:
                        key = str(next(iter(value), "")) if isinstance(value, dict) else ""
                        intrinsic = len(value or ()) == 1 and (key == "Ref" or key[:4] == "Fn::")
                        kind = f"{key}, an intrinsic function" if intrinsic else None
                        self._error(
                            f"mapping entry {name}/{top}/{second} is {kind or _kind(value)}; "
                            "Mappings hold only strings, numbers and lists (no intrinsic "
                            "functions)",
                            entries.line_of(second),
                        )

    def _cycles(
        self, edges: dict[tuple[str, str], int | None], what: str, description: str
    ) -> None:
        if not edges:
            return
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_edges_from(edges)
        for component in nx.strongly_connected_components(graph):
            first = min(component)
            if len(component) == 1 and not graph.has_edge(first, first):
                continue
            cycle = nx.find_cycle(graph.subgraph(component), first)
            shown = " -> ".join([cycle[0][0], *(target for _, target in cycle)])
            self._error(
                f"{description}: {what} {shown}; CloudFormation rejects the template",
                edges.get(cycle[0]),
                cycle[0][0] if what == "resources" else None,
            )

    def _error(self, message: str, line: int | None, resource: str | None = None) -> None:
        self.problems.append(Problem(message, line, resource))


_HANDLERS = {
    "Ref": _Structure._ref,
    "Fn::GetAtt": _Structure._getatt,
    "Fn::Sub": _Structure._sub,
    "Fn::If": _Structure._if,
    "Fn::Transform": _Structure._skip,
}


def _key_line(node: object, key: object) -> int | None:
    return node.line_of(key) if isinstance(node, Map) else None


def _index_line(node: object, index: int) -> int | None:
    return node.line_of(index) if hasattr(node, "item_lines") else None  # type: ignore[attr-defined]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"
