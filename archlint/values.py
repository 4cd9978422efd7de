"""The one place that understands CloudFormation's intrinsic functions.

`Resolver.values(node)` answers "what can this be?" with a list of possible
values: both branches of every `Fn::If` (a violation in either branch is a
violation), parameter defaults, mappings, pseudo parameters. Each value is a
`Lit` (known), a `Ref` (a resource or one of its attributes), a `Text` (a
string built by `Fn::Sub`/`Fn::Join` from literals and references) or an
`Unknown` with the reason. Rules ask this module; they never walk intrinsics.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from archlint.nodes import Map, Seq, line_of
from archlint.template import Template

# A product of Fn::If branches inside one Fn::Sub/Fn::Join stops here: the
# remaining combinations add no new kinds of values, only time.
MAX_COMBINATIONS = 32

INTRINSICS = frozenset(
    {
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::Select",
        "Fn::Split",
        "Fn::If",
        "Fn::FindInMap",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::ImportValue",
        "Fn::GetAZs",
        "Fn::Transform",
        "Fn::Length",
        "Fn::ToJsonString",
    }
)

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
AVAILABILITY_ZONES = 6


@dataclass(frozen=True)
class Lit:
    """A value known at lint time."""

    value: object
    line: int | None = None
    origin: str | None = None  # e.g. "default of parameter AllowedCidr"

    def text(self) -> str | None:
        if isinstance(self.value, str):
            return self.value
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, (int, float)):
            return str(self.value)
        return None


@dataclass(frozen=True)
class Ref:
    """A resource (attribute None: `Ref`) or one of its attributes (`GetAtt`)."""

    target: str
    attribute: str | None = None
    line: int | None = None

    def text(self) -> str:
        return f"${{{self.target}.{self.attribute}}}" if self.attribute else f"${{{self.target}}}"


@dataclass(frozen=True)
class Pseudo:
    """A pseudo parameter whose value depends on where the stack is deployed."""

    name: str
    line: int | None = None

    def text(self) -> str:
        return f"${{{self.name}}}"


@dataclass(frozen=True)
class Unknown:
    """A value archlint cannot know, and why."""

    reason: str
    line: int | None = None

    def text(self) -> str:
        return "${?}"


@dataclass(frozen=True)
class Text:
    """A string assembled from literal pieces and references."""

    parts: tuple[str | Ref | Pseudo | Unknown, ...]
    line: int | None = None

    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text() for p in self.parts)

    @property
    def refs(self) -> list[Ref]:
        return [p for p in self.parts if isinstance(p, Ref)]


Value = Lit | Ref | Pseudo | Unknown | Text


def text_of(value: Value) -> str | None:
    """The value as a string with `${...}` placeholders, or None if not a string."""
    return value.text()


def refs_in(value: Value) -> list[Ref]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, Text):
        return value.refs
    return []


def intrinsic_name(node: object) -> str | None:
    """The intrinsic function a node is (`{"Fn::If": [...]}` -> "Fn::If"), if any."""
    if isinstance(node, dict) and len(node) == 1:
        (key,) = node
        if key in INTRINSICS or key == "Condition":
            return key
    return None


def is_no_value(node: object) -> bool:
    return isinstance(node, dict) and len(node) == 1 and node.get("Ref") == "AWS::NoValue"


class Resolver:
    """Resolves values of one template; memoised per node."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self._cache: dict[int, list[Value]] = {}
        # Parsed JSON documents, by their text: kept alive so that the ids the
        # value cache is keyed by are never reused for other nodes.
        self._json: dict[tuple[str, int | None], object] = {}
        # Graph keys by themselves and, for the template's own resources, by
        # logical id: `Ref: Bucket` finds the first definition of Bucket, and
        # the renamed references of a nested stack (`Web/Bucket`) find theirs.
        self._resources = {key: key for key in template.resources}
        for resource in template.resources.values():
            if "/" not in resource.key:
                self._resources.setdefault(resource.logical_id, resource.key)

    # -- structure ------------------------------------------------------------

    def expand(self, node: object) -> list[object]:
        """The raw nodes a position can hold: both `Fn::If` branches, no `AWS::NoValue`.

        Containers are returned as they are; only the intrinsic at this
        position is looked through (a `Ref` to a list parameter becomes the
        list of its default).
        """
        name = intrinsic_name(node)
        if name == "Fn::If":
            args = node["Fn::If"]  # type: ignore[index]
            if isinstance(args, list) and len(args) == 3:
                return self.expand(args[1]) + self.expand(args[2])
            return []
        if name is None:
            return [node]
        if is_no_value(node):
            return []
        if name in ("Ref", "Fn::Split", "Fn::FindInMap", "Fn::GetAZs", "Fn::Select"):
            # Look through to containers (a list parameter, a mapping entry);
            # scalars keep their node so values() can say where they came from.
            out: list[object] = []
            keep_node = False
            for value in self.values(node):
                if isinstance(value, Lit) and isinstance(value.value, (list, dict)):
                    out.append(value.value)
                else:
                    keep_node = True
            return [*out, node] if keep_node else out
        return [node]

    def get(self, mapping: object, key: str) -> list[object]:
        """Possible raw nodes of `mapping[key]`, looking through `Fn::If` on both levels."""
        out: list[object] = []
        for candidate in self.expand(mapping):
            if isinstance(candidate, dict) and key in candidate:
                out.extend(self.expand(candidate[key]))
        return out

    def items(self, node: object) -> list[tuple[object, int | None]]:
        """Items of a list property with their lines, `Fn::If` looked through."""
        out: list[tuple[object, int | None]] = []
        for candidate in self.expand(node):
            if isinstance(candidate, list):
                for index, item in enumerate(candidate):
                    line = candidate.line_of(index) if isinstance(candidate, Seq) else None
                    for expanded in self.expand(item):
                        out.append((expanded, line_of(expanded, line)))
            elif candidate is not None:
                out.append((candidate, line_of(candidate, line_of(node))))
        return out

    def find(self, root: object, path: str) -> list[tuple[object, int | None]]:
        """Raw nodes at a dotted path; `[*]` walks list items: `Origins[*].DomainName`."""
        current: list[tuple[object, int | None]] = [(root, line_of(root))]
        for step in path.split("."):
            many = step.endswith("[*]")
            key = step[:-3] if many else step
            following: list[tuple[object, int | None]] = []
            for node, line in current:
                for candidate in self.expand(node):
                    if not isinstance(candidate, dict) or key not in candidate:
                        continue
                    key_line = candidate.line_of(key) if isinstance(candidate, Map) else line
                    for value in self.expand(candidate[key]):
                        if many:
                            following.extend(
                                (item, item_line or key_line)
                                for item, item_line in self.items(value)
                            )
                        else:
                            following.append((value, line_of(value, key_line)))
            current = following
        return current

    def options(self, node: object) -> list[object | None]:
        """Like `expand`, but a branch that is `AWS::NoValue` (or a missing node) stays, as None.

        `None in options(props.get("StreamSpecification"))`: the property may be absent.
        """
        if intrinsic_name(node) == "Fn::If":
            args = node["Fn::If"]  # type: ignore[index]
            if isinstance(args, list) and len(args) == 3:
                return self.options(args[1]) + self.options(args[2])
            return []
        if node is None or is_no_value(node):
            return [None]
        return self.expand(node)

    def list_variants(self, node: object) -> list[list[tuple[object, int | None]]]:
        """Every list a list property can be, as (item, line of its list entry) lists.

        `Fn::If` on the list and on each item are taken apart; an item whose
        branch is `AWS::NoValue` is left out of that variant, so the shortest
        variant is the smallest list the stack can get (at most
        MAX_COMBINATIONS variants per list).
        """
        variants: list[list[tuple[object, int | None]]] = []
        for candidate in self.options(node):
            if candidate is None:
                variants.append([])
            elif not isinstance(candidate, list):
                variants.append([(candidate, line_of(candidate, line_of(node)))])
            else:
                choices = []
                for index, item in enumerate(candidate):
                    line = candidate.line_of(index) if isinstance(candidate, Seq) else None
                    choices.append([(o, line or line_of(o)) for o in self.options(item)])
                for combination in self._combinations(choices):
                    variants.append([(i, ln) for i, ln in combination if i is not None])
        return variants

    def values_at(self, root: object, path: str) -> list[Value]:
        """Resolved values at a dotted path (see `find`)."""
        out: list[Value] = []
        for node, line in self.find(root, path):
            out.extend(self.values(node, line))
        return out

    # -- values -------------------------------------------------------------

    def values(self, node: object, line: int | None = None) -> list[Value]:
        """Every value a node can take."""
        if isinstance(node, (dict, list)):
            cached = self._cache.get(id(node))
            if cached is not None:
                return cached
        line = line_of(node, line)
        name = intrinsic_name(node)
        if name is None:
            result: list[Value] = [Lit(node, line)]
        else:
            result = self._intrinsic(name, node[name], line)  # type: ignore[index]
        if isinstance(node, (dict, list)):
            self._cache[id(node)] = result
        return result

    def json_documents(self, node: object, line: int | None = None) -> list[object]:
        """The documents a JSON string can be, parsed: a policy given as a string.

        Each possible string (a literal, a parameter default, a `Fn::Sub` or
        `Fn::Join`) is parsed with its `${...}` placeholders kept as `Fn::Sub`
        nodes, so `values()` still finds the resources they name. A string that
        is not a JSON object or array becomes an `Unknown` with the reason.
        """
        out: list[object] = []
        for value in self.values(node, line):
            text = value.text() if isinstance(value, (Lit, Text)) else None
            if not isinstance(text, str):
                out.append(value if isinstance(value, Unknown) else Unknown("not a string"))
                continue
            where = value.line or line
            if (text, where) not in self._json:
                try:
                    parsed = _from_json(json.loads(text), where)
                except ValueError as error:
                    parsed = Unknown(f"not valid JSON ({error})", where)
                if not isinstance(parsed, (Map, Seq, Unknown)):
                    parsed = Unknown("JSON that is not an object or array", where)
                self._json[text, where] = parsed
            out.append(self._json[text, where])
        return out

    def literal(self, node: object) -> object | None:
        """The value if every possibility is the same literal, else None."""
        values = self.values(node)
        if values and all(isinstance(v, Lit) for v in values):
            first = values[0].value  # type: ignore[union-attr]
            if all(v.value == first for v in values):  # type: ignore[union-attr]
                return first
        return None

    def strings(self, node: object) -> list[tuple[str | None, Value]]:
        """Each possible value with its rendering as a string (None if not a string)."""
        return [(v.text(), v) for v in self.values(node)]

    def references(self, node: object) -> set[str]:
        """Keys of every resource a value refers to, through any intrinsic."""
        found: set[str] = set()
        for value in self.values(node):
            for ref in refs_in(value):
                found.add(ref.target)
        return found

    def _intrinsic(self, name: str, args: object, line: int | None) -> list[Value]:
        handler = getattr(self, "_fn_" + name.replace("Fn::", "").lower(), None)
        if handler is None:
            return [Unknown(f"{name} is not evaluated by archlint", line)]
        return handler(args, line)

    def _fn_ref(self, args: object, line: int | None) -> list[Value]:
        if not isinstance(args, str):
            return [Unknown("Ref to a non-string", line)]
        if args.startswith("AWS::"):
            if args == "AWS::NoValue":
                return []
            return [Pseudo(args, line)]
        if args in self._resources:
            return [Ref(self._resources[args], None, line)]
        parameter = self.template.parameters.get(args)
        if isinstance(parameter, Map):
            return self._parameter(args, parameter, line)
        return [Unknown(f"Ref to {args}, which is neither a parameter nor a resource", line)]

    def _parameter(self, name: str, parameter: Map, line: int | None) -> list[Value]:
        """Every value a deployment can give the parameter: its default and each allowed value."""
        ptype = parameter.get("Type", "String")
        is_list = isinstance(ptype, str) and (
            ptype.startswith("List<") or ptype == "CommaDelimitedList"
        )
        out: list[Value] = []
        if "Default" in parameter:
            default = parameter["Default"]
            if is_list and isinstance(default, str):
                default = [part.strip() for part in default.split(",")]
            out.append(Lit(default, line, f"default of parameter {name}"))
        allowed = parameter.get("AllowedValues")
        if isinstance(allowed, list) and not is_list:
            chosen = {_key(v.value) for v in out}
            for value in allowed:
                if isinstance(value, (str, int, float, bool)) and _key(value) not in chosen:
                    chosen.add(_key(value))
                    out.append(Lit(value, line, f"allowed value {value!r} of parameter {name}"))
        return out or [Unknown(f"parameter {name} has no default", line)]

    def _fn_getatt(self, args: object, line: int | None) -> list[Value]:
        if isinstance(args, str):
            args = args.split(".", 1)
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str):
            return [Unknown("malformed Fn::GetAtt", line)]
        target = self._resources.get(args[0])
        if target is None:
            return [Unknown(f"Fn::GetAtt of {args[0]}, which is not a resource", line)]
        attribute = args[1] if isinstance(args[1], str) else "?"
        output = self.template.nested_outputs.get((target, attribute.removeprefix("Outputs.")))
        if attribute.startswith("Outputs.") and output is not None:
            return self.values(output, line)
        return [Ref(target, attribute, line)]

    def _fn_if(self, args: object, line: int | None) -> list[Value]:
        if not isinstance(args, list) or len(args) != 3:
            return [Unknown("malformed Fn::If", line)]
        return self.values(args[1], line) + self.values(args[2], line)

    def _fn_base64(self, args: object, line: int | None) -> list[Value]:
        return self.values(args, line)

    def _fn_importvalue(self, args: object, line: int | None) -> list[Value]:
        names = [v.text() for v in self.values(args, line)]
        return [Unknown(f"imported from another stack ({', '.join(map(str, names))})", line)]

    def _fn_getazs(self, args: object, line: int | None) -> list[Value]:
        # Distinct placeholders: `!Select [0, !GetAZs '']` and `[1, ...]` are
        # different zones, which is all a multi-AZ check needs to know.
        zones = [f"${{AZ{index + 1}}}" for index in range(AVAILABILITY_ZONES)]
        return [Lit(zones, line, "Fn::GetAZs")]

    def _fn_findinmap(self, args: object, line: int | None) -> list[Value]:
        """Every entry the lookup can reach: a key known only at deploy time
        (`!Ref AWS::Region`, a parameter without default) may be any key of its level,
        and a parameter's allowed values reach their own rows."""
        if not isinstance(args, list) or len(args) < 3:
            return [Unknown("malformed Fn::FindInMap", line)]
        mapping_names = [v.text() if isinstance(v, Lit) else None for v in self.values(args[0])]
        rows: list[tuple[object, list[str]]] = [
            (self.template.mappings.get(n), [n]) for n in mapping_names if n is not None
        ]
        if None in mapping_names:
            rows.append((None, ["?"]))
        for key in args[1:3]:
            following: list[tuple[object, list[str]]] = []
            names = [v.text() if isinstance(v, Lit) else None for v in self.values(key, line)]
            for node, path in rows:
                if not isinstance(node, dict):
                    following.append((None, [*path, "?"]))
                    continue
                for name in dict.fromkeys(names):
                    if name is None:  # known only at deploy time: any key of this level
                        following.extend((v, [*path, str(k)]) for k, v in node.items())
                    else:
                        following.append((node.get(name), [*path, name]))
            rows = following[: MAX_COMBINATIONS * 4]
        out: list[Value] = []
        for node, path in rows:
            if node is None:
                if len(args) > 3 and isinstance(args[3], dict) and "DefaultValue" in args[3]:
                    out.extend(self.values(args[3]["DefaultValue"], line))
                else:
                    out.append(Unknown(f"mapping entry {'/'.join(path)} not found", line))
                continue
            origin = f"{path[1]}/{path[2]} of mapping {path[0]}"
            for value in self.values(node, line):
                found = Lit(value.value, value.line, origin) if isinstance(value, Lit) else value
                out.append(found)
        return out

    def _fn_select(self, args: object, line: int | None) -> list[Value]:
        if not isinstance(args, list) or len(args) != 2:
            return [Unknown("malformed Fn::Select", line)]
        out: list[Value] = []
        for index in self.values(args[0], line):
            position = _as_int(index.value) if isinstance(index, Lit) else None
            if position is None:
                out.append(Unknown("Fn::Select with an index known only at deploy time", line))
                continue
            for candidate in self._list_values(args[1], line):
                if isinstance(candidate, list):
                    if 0 <= position < len(candidate):
                        out.extend(self.values(candidate[position], line))
                    else:
                        out.append(Unknown(f"Fn::Select index {position} out of range", line))
                else:
                    out.append(candidate)
        return out

    def _list_values(self, node: object, line: int | None) -> list[list[object] | Value]:
        """Possible lists (as raw items) of a list-valued node, or Unknowns."""
        out: list[list[object] | Value] = []
        for candidate in self.expand(node):
            if isinstance(candidate, list):
                out.append(list(candidate))
                continue
            for value in self.values(candidate, line):
                if isinstance(value, Lit) and isinstance(value.value, list):
                    out.append(list(value.value))
                elif isinstance(value, (Unknown, Ref, Text)):
                    out.append(value)
                else:
                    out.append(Unknown(f"list from {value.text()}", line))
        return out

    def _fn_split(self, args: object, line: int | None) -> list[Value]:
        if not isinstance(args, list) or len(args) != 2:
            return [Unknown("malformed Fn::Split", line)]
        out: list[Value] = []
        for delimiter, source in itertools.product(
            self.values(args[0], line), self.values(args[1], line)
        ):
            sep = delimiter.value if isinstance(delimiter, Lit) else None
            text = source.value if isinstance(source, Lit) else None
            if isinstance(sep, str) and sep and isinstance(text, str):
                out.append(Lit(text.split(sep), line))
            elif isinstance(source, (Ref, Text)):
                # Split at deploy time: each piece is a part of the source, so
                # the pieces still refer to what the source refers to.
                out.append(source)
            else:
                out.append(Unknown("Fn::Split of a value known only at deploy time", line))
        return out

    def _fn_join(self, args: object, line: int | None) -> list[Value]:
        if not isinstance(args, list) or len(args) != 2:
            return [Unknown("malformed Fn::Join", line)]
        out: list[Value] = []
        for delimiter in self.values(args[0], line):
            sep = delimiter.text() if isinstance(delimiter, Lit) else None
            if sep is None:
                out.append(Unknown("Fn::Join with a delimiter known only at deploy time", line))
                continue
            for items in self._list_values(args[1], line):
                if not isinstance(items, list):
                    out.append(items)
                    continue
                choices = [self.values(item, line) for item in items]
                for combination in self._combinations(choices):
                    parts: list[str | Ref | Pseudo | Unknown] = []
                    for index, value in enumerate(combination):
                        if index:
                            parts.append(sep)
                        parts.extend(_text_parts(value))
                    out.append(_text(parts, line))
        return out

    def _fn_sub(self, args: object, line: int | None) -> list[Value]:
        variables: dict[str, list[Value]] = {}
        if isinstance(args, list) and len(args) == 2 and isinstance(args[1], dict):
            for key, value in args[1].items():
                variables[str(key)] = self.values(value, line)
            args = args[0]
        if not isinstance(args, str):
            return [Unknown("malformed Fn::Sub", line)]
        pieces: list[list[list[str | Ref | Pseudo | Unknown]]] = []
        position = 0
        for match in _SUB_VARIABLE.finditer(args):
            pieces.append([[args[position : match.start()]]])
            pieces.append(self._sub_variable(match.group(1), variables, line))
            position = match.end()
        pieces.append([[args[position:]]])
        out: list[Value] = []
        for combination in self._combinations(pieces):
            out.append(_text([part for chunk in combination for part in chunk], line))
        return out

    def _sub_variable(
        self, name: str, variables: dict[str, list[Value]], line: int | None
    ) -> list[list[str | Ref | Pseudo | Unknown]]:
        if name.startswith("!"):
            return [["${" + name[1:] + "}"]]
        name = name.strip()
        if name in variables:
            return [_text_parts(v) for v in variables[name]]
        if "." in name:
            return [_text_parts(v) for v in self._fn_getatt(name.split(".", 1), line)]
        return [_text_parts(v) for v in self._fn_ref(name, line)] or [[""]]

    def _combinations(self, choices: list[list]) -> Iterator[tuple]:
        return itertools.islice(itertools.product(*choices), MAX_COMBINATIONS)


def _from_json(node: object, line: int | None) -> object:
    """A parsed JSON value as loaded nodes on `line`; strings with `${...}` become Fn::Sub."""
    if isinstance(node, dict):
        mapping = Map(line)
        for key, item in node.items():
            mapping[key] = _from_json(item, line)
        return mapping
    if isinstance(node, list):
        sequence = Seq(line)
        sequence.extend(_from_json(item, line) for item in node)
        return sequence
    if isinstance(node, str) and _SUB_VARIABLE.search(node):
        return {"Fn::Sub": node}
    return node


def _key(value: object) -> str:
    """How CloudFormation compares parameter values: as strings (`true`, `60`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _text_parts(value: Value) -> list[str | Ref | Pseudo | Unknown]:
    if isinstance(value, Text):
        return list(value.parts)
    if isinstance(value, Lit):
        text = value.text()
        return [text] if text is not None else [Unknown("a non-string inside a string")]
    return [value]


def _text(parts: Iterable[str | Ref | Pseudo | Unknown], line: int | None) -> Value:
    merged: list[str | Ref | Pseudo | Unknown] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    if all(isinstance(p, str) for p in merged):
        return Lit("".join(merged), line)  # type: ignore[arg-type]
    if len(merged) == 1 and not isinstance(merged[0], str):
        return merged[0]
    return Text(tuple(merged), line)
