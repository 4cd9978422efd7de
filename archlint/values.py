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
from collections.abc import Iterable
from dataclasses import dataclass

from archlint import combine
from archlint.nodes import Map, Seq, line_of
from archlint.template import Template

# A product of Fn::If branches inside one Fn::Sub/Fn::Join is enumerated up
# to here; past it, it is over-approximated (see `combine.product`) and the
# resolver says so (`over_approximated`).
MAX_COMBINATIONS = 32
# Intrinsics nested (or chained through mappings and nested stack outputs)
# deeper than this are not followed: the value is an Unknown, and the
# resolver's recursion stays far from Python's limit.
MAX_RESOLUTION_DEPTH = 100

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
_Parts = list[str | Ref | Pseudo | Unknown]  # the pieces of one part of a string


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
        # Intrinsics being resolved right now, by node id: meeting one again is a cycle.
        self._active: dict[int, str] = {}
        # Where combinations were over-approximated (what, line), and what
        # else could not be checked (message, line): the engine reports them
        # once per template (AL006).
        self.over_approximated: list[tuple[str, int | None]] = []
        self.notes: dict[tuple[str, int | None], None] = {}

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
                combinations, over = combine.product(choices, MAX_COMBINATIONS)
                if over:
                    self.over_approximated.append(("list items", line_of(candidate)))
                    # The smallest list the stack can get still counts.
                    items = [[o[0] for o in options] for options in choices]
                    smallest = combine.smallest(items)
                    combinations.append(
                        tuple(
                            (item, options[0][1])
                            for item, options in zip(smallest, choices, strict=True)
                        )
                    )
                for combination in combinations:
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
        """Every value a node can take.

        A value that depends on itself (a mapping entry that looks itself up,
        a nested stack output passed back into the stack) is an `Unknown`
        naming the cycle, as is one nested deeper than MAX_RESOLUTION_DEPTH.
        """
        if isinstance(node, (dict, list)):
            cached = self._cache.get(id(node))
            if cached is not None:
                return cached
        line = line_of(node, line)
        name = intrinsic_name(node)
        if name is None:
            result: list[Value] = [Lit(node, line)]
        else:
            key = id(node)
            if key in self._active:
                chain = [*self._active.values()]
                cycle = chain[chain.index(self._active[key]) :]
                return [Unknown(f"a cycle: {' -> '.join([*cycle, cycle[0]])}", line)]
            if len(self._active) >= MAX_RESOLUTION_DEPTH:
                return [
                    Unknown(f"intrinsic functions nested over {MAX_RESOLUTION_DEPTH} deep", line)
                ]
            self._active[key] = _describe(name, node[name])  # type: ignore[index]
            try:
                result = self._intrinsic(name, node[name], line)  # type: ignore[index]
            finally:
                del self._active[key]
        if isinstance(node, (dict, list)):
            self._cache[id(node)] = result
        return result

    def note(self, message: str, line: int | None) -> None:
        """Something archlint did not check, for the engine to report (AL006)."""
        self.notes[message, line] = None

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
                except RecursionError:
                    parsed = Unknown("JSON nested too deeply to read", where)
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
            # Every row the keys can select counts (no cap: at most the mapping's
            # size); a row reached twice counts once.
            rows = list({tuple(path): (node, path) for node, path in following}.values())
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
                choices = [[_text_parts(v) for v in self.values(item, line)] for item in items]
                combinations, mixed = self._combinations(choices, "Fn::Join parts", line)
                for combination in combinations:
                    out.append(_joined(combination, sep, line))
                if mixed is not None:
                    out.append(_any_mix(_joined(mixed, sep, line), sep))
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
        combinations, mixed = self._combinations(pieces, "Fn::Sub variables", line)
        out = [_joined(combination, "", line) for combination in combinations]
        if mixed is not None:
            out.append(_any_mix(_joined(mixed, "", line)))
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

    def _combinations(
        self, choices: list[list[_Parts]], what: str, line: int | None
    ) -> tuple[list[tuple[_Parts, ...]], tuple[_Parts, ...] | None]:
        """The text parts of a string's parts in every combination, and past
        MAX_COMBINATIONS one more combination standing for any other mix.

        Past the cap each choice of each part still counts on its own
        (`combine.product`); the mix keeps the parts with a single value and
        makes the others unknown. The resolver records that it over-approximated.
        """
        combinations, over = combine.product(choices, MAX_COMBINATIONS)
        if not over:
            return combinations, None
        self.over_approximated.append((what, line))
        mixed = tuple(
            options[0]
            if len(options) == 1
            else [Unknown(f"any of {len(options)} values (combinations over-approximated)")]
            for options in choices
        )
        return combinations, mixed


def _describe(name: str, args: object) -> str:
    """An intrinsic as a user would recognise it in a cycle: `Fn::FindInMap [M, a, b]`."""
    if isinstance(args, list):
        shown = ", ".join(a if isinstance(a, str) else "..." for a in args[:4])
        return f"{name} [{shown}]"
    return f"{name} {args}" if isinstance(args, str) else name


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


def _joined(combination: tuple[_Parts, ...], separator: str, line: int | None) -> Value:
    parts: _Parts = []
    for index, chunk in enumerate(combination):
        if index and separator:
            parts.append(separator)
        parts.extend(chunk)
    return _text(parts, line)


def _any_mix(value: Value, separator: str = "") -> Value:
    """The value standing for any mix of over-approximated choices: a `Text`
    with unknown pieces, or one `Unknown` when nothing of it is known."""
    if isinstance(value, Text):
        literal = "".join(p for p in value.parts if isinstance(p, str))
        if not (literal.replace(separator, "") if separator else literal):
            return Unknown(
                "any mix of its parts' values (combinations over-approximated)", value.line
            )
    return value


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
