"""Bytes to a tree of mappings, lists and scalars that remember their lines.

The loader knows YAML, JSON and CloudFormation's short-form tags, nothing of
AWS. Everything that can go wrong with an input file (bad bytes, bad syntax,
duplicate keys, alias blow-ups, absurd nesting) becomes a `LoadProblem` with a
line; nothing here raises for bad input.

PyYAML's libyaml parser composes the node graph in C; the conversion to
`Map`/`Seq` below is a single pass that shares aliased subtrees instead of
copying them, after checking that expanding them would stay bounded.
"""

from __future__ import annotations

import codecs
import gc
import re

import yaml

from archlint.aliases import MAX_EXPANDED_NODES, expansion_problem  # noqa: F401
from archlint.jsonload import load_json
from archlint.nodes import (  # noqa: F401  (Map, Seq, line_of: the loader's public types)
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    Loaded,
    LoadProblem,
    Map,
    Seq,
    TooDeep,
    line_of,
    too_deep,
)

try:  # libyaml is an order of magnitude faster; fall back to pure Python.
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]

# Limits that no real template comes near and every hostile one does.
# CloudFormation itself takes at most 1 MB; generated estates reach a few MB.
MAX_FILE_BYTES = 16 * 1024 * 1024
# libyaml composes recursively in C: 20,000 levels are fine on an 8 MB
# stack, 30,000 are not. Below this bound no depth scan is needed.
_SAFE_COMPOSE_DEPTH = 8_000

_SHORT_TAGS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!GetAtt": "Fn::GetAtt",
    "!Sub": "Fn::Sub",
    "!If": "Fn::If",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!FindInMap": "Fn::FindInMap",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!ImportValue": "Fn::ImportValue",
    "!GetAZs": "Fn::GetAZs",
    "!Equals": "Fn::Equals",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!Not": "Fn::Not",
    "!Transform": "Fn::Transform",
    "!Length": "Fn::Length",
    "!ToJsonString": "Fn::ToJsonString",
    "!ForEach": "Fn::ForEach",
}

# Functions of the Rules section: CloudFormation knows them, archlint reads no rules.
_RULE_TAGS = frozenset(
    {"!Contains", "!EachMemberEquals", "!EachMemberIn", "!RefAll", "!ValueOf", "!ValueOfAll"}
)

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def decode(data: bytes) -> tuple[str | None, LoadProblem | None]:
    """Bytes to text, honouring UTF-8/UTF-16/UTF-32 byte-order marks."""
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    )
    encoding = "utf-8"
    for bom, name in boms:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], name
            break
    if encoding == "utf-8" and b"\x00" in data:
        # NUL is valid UTF-8 but never in a template: UTF-16/32 text without its
        # byte-order mark, or a binary file.
        offset = data.index(b"\x00")
        return None, LoadProblem(
            "encoding",
            f"file holds a NUL byte at offset {offset}: UTF-16 or UTF-32 without a "
            "byte-order mark, or not text at all; save it as UTF-8",
            data[:offset].count(b"\n") + 1,
        )
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, LoadProblem(
            "encoding",
            f"file is not valid {encoding.upper()}: byte 0x{data[error.start]:02x} "
            f"at offset {error.start} cannot be decoded",
            line,
        )


def _load(data: bytes) -> Loaded:
    if len(data) > MAX_FILE_BYTES:
        return Loaded(
            None,
            [
                LoadProblem(
                    "too-large",
                    # The engine reads at most the limit and one byte more:
                    # the size past the limit is not known, and not needed.
                    f"file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB, archlint's limit "
                    "for one template (CloudFormation itself accepts at most 1 MB)",
                )
            ],
            # Enough text to tell a template from other YAML, no more.
            data[:200_000].decode("utf-8", "replace"),
        )
    text, problem = decode(data)
    if problem is not None:
        return Loaded(None, [problem], data.decode("utf-8", "replace"))
    assert text is not None
    if not text.strip():
        return Loaded(None, [LoadProblem("empty", "file is empty", 1, "info")], text)
    if text.lstrip()[:1] in ("{", "["):
        # Text that opens like JSON is held to JSON: a trailing comma that
        # YAML would forgive is still a broken .json file for every other tool.
        return load_json(text)
    problem = _nesting_problem(text)
    if problem is not None:
        return Loaded(None, [problem], text)
    try:
        node = yaml.compose(text, Loader=_YamlLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        if "nesting depth" in (error.problem or ""):
            # Newer libyaml builds stop at their own depth limit (1,000).
            return Loaded(None, [too_deep(line)], text)
        reason = error.problem or str(error)
        if error.context:
            reason = f"{error.context}: {reason}"
        return Loaded(None, [LoadProblem("syntax", f"not valid YAML/JSON: {reason}", line)], text)
    except yaml.YAMLError as error:
        return Loaded(None, [LoadProblem("syntax", f"not valid YAML/JSON: {error}", 1)], text)
    if node is None:
        return Loaded(None, [LoadProblem("empty", "file holds no document", 1, "info")], text)
    converter = _Converter()
    # Without an anchor there is no alias, and nothing to expand.
    problem = expansion_problem(node, text) if "&" in text else None
    if problem is not None:
        return Loaded(None, [problem], text)
    try:
        root = converter.convert(node, 0)
    except TooDeep as error:
        return Loaded(None, [error.problem], text)
    return Loaded(root, converter.problems, text)


def load(data: bytes) -> Loaded:
    """Load YAML or JSON bytes. Never raises for bad input."""
    # The tree is hundreds of thousands of small acyclic objects: the cyclic
    # garbage collector would walk them again and again while they are built.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(data)
    finally:
        if enabled:
            gc.enable()


def _nesting_problem(text: str) -> LoadProblem | None:
    """Refuse nesting deep enough to exhaust libyaml's or Python's stack.

    Depth is bounded by the number of flow brackets and by the longest line
    (block nesting needs indentation), so the exact event scan runs only on
    files that could be that deep.
    """
    longest_line = max(map(len, text.splitlines()), default=0)
    if longest_line < _SAFE_COMPOSE_DEPTH and _flow_depth_is_small(text):
        return None
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_YamlLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return too_deep(event.start_mark.line + 1)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        if "nesting depth" in (error.problem or ""):  # libyaml's own limit (newer builds)
            mark = error.problem_mark
            return too_deep(mark.line + 1 if mark is not None else 1)
        return None  # compose reports the syntax error with its line
    except yaml.YAMLError:
        return None
    return None


_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")


def _flow_depth_is_small(text: str, passes: int = 64) -> bool:
    """True when flow brackets nest at most `passes` deep (and balance).

    Each pass deletes the innermost bracket pairs of the brackets-only text,
    in C; real templates empty it in a handful of passes. Anything else
    (deep, or unbalanced by brackets inside strings) gets the exact scan.
    """
    brackets = _NOT_BRACKET.sub("", text)
    for _ in range(passes):
        if not brackets:
            return True
        shorter = _INNERMOST_PAIR.sub("", brackets)
        if len(shorter) == len(brackets):
            return False
        brackets = shorter
    return not brackets


class _Converter:
    """YAML node graph to Map/Seq/scalars, one pass, aliases shared."""

    def __init__(self) -> None:
        self.problems: list[LoadProblem] = []
        self._rain = False  # a Rain directive was reported
        self._done: dict[int, object] = {}
        self._scalars = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise TooDeep(too_deep(node.start_mark.line + 1))
        done = self._done.get(id(node))
        if done is not None:
            return done
        if isinstance(node, yaml.ScalarNode):
            value = self._scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = self._sequence(node, depth)
        else:
            value = self._mapping(node, depth)
        tag = node.tag
        if tag in _SHORT_TAGS:
            value = self._short_form(tag, value, node)
        elif tag.startswith("!") and tag not in _RULE_TAGS:
            problem = _unknown_tag(tag, node.start_mark.line + 1)
            if problem.kind != "not-expanded" or not self._rain:
                self.problems.append(problem)  # one Rain directive says it for the file
            self._rain = self._rain or problem.kind == "not-expanded"
        if not isinstance(node, yaml.ScalarNode):
            self._done[id(node)] = value
        return value

    def _scalar(self, node: yaml.ScalarNode) -> object:
        tag = node.tag
        text = node.value
        if tag == _STR_TAG or node.style in ("'", '"', "|", ">"):
            return text
        try:
            if tag == _INT_TAG:
                if len(text) > MAX_NUMBER_CHARS:
                    return text  # see nodes.MAX_NUMBER_CHARS
                return self._scalars.construct_yaml_int(node)
            if tag == _FLOAT_TAG:
                return self._scalars.construct_yaml_float(node)
            if tag == _BOOL_TAG:
                return self._scalars.construct_yaml_bool(node)
            if tag == _NULL_TAG:
                return None
        except (ValueError, yaml.YAMLError):
            return text
        # Timestamps, short-form tags on scalars and unknown tags stay text:
        # nothing in a template ever constructs a Python object.
        return text

    def _sequence(self, node: yaml.SequenceNode, depth: int) -> Seq:
        seq = Seq(node.start_mark.line + 1)
        for item in node.value:
            seq.append(self.convert(item, depth + 1))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq

    def _mapping(self, node: yaml.MappingNode, depth: int) -> Map:
        mapping = Map(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._merge(mapping, value_node, depth)
                continue
            key = self.convert(key_node, depth + 1)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = str(key)
            line = key_node.start_mark.line + 1
            value = self.convert(value_node, depth + 1)
            if key in mapping:
                first = mapping.key_lines.get(key)
                self.problems.append(
                    LoadProblem(
                        "duplicate-key",
                        f"duplicate key '{key}' (first defined at line {first}); "
                        "YAML keeps only one of them",
                        line,
                    )
                )
                mapping.duplicates.append((key, value, line))
                continue
            mapping[key] = value
            mapping.key_lines[key] = line
        return mapping

    def _merge(self, mapping: Map, value_node: yaml.Node, depth: int) -> None:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            merged = self.convert(source, depth + 1)
            if isinstance(merged, Map):
                for key, value in merged.items():
                    if key not in mapping:
                        mapping[key] = value
                        mapping.key_lines[key] = merged.line_of(key) or mapping.line

    def _short_form(self, tag: str, value: object, node: yaml.Node) -> Map:
        name = _SHORT_TAGS[tag]
        if name == "Fn::GetAtt" and isinstance(value, str):
            # `!GetAtt Resource.Attribute.With.Dots` splits at the first dot.
            resource, _, attribute = value.partition(".")
            parts = Seq(node.start_mark.line + 1)
            parts.extend([resource, attribute])
            parts.item_lines.extend([node.start_mark.line + 1] * 2)
            value = parts
        wrapped = Map(node.start_mark.line + 1)
        wrapped[name] = value
        wrapped.key_lines[name] = node.start_mark.line + 1
        return wrapped


def _unknown_tag(tag: str, line: int) -> LoadProblem:
    """A short-form tag CloudFormation does not know: its value stays as written."""
    shown = tag if len(tag) <= 60 else tag[:60] + "..."
    if tag.startswith("!Rain::"):
        return LoadProblem(
            "not-expanded",
            f"{shown} is a Rain directive (the first of the file); archlint checks the "
            "template after `rain pkg` expands it",
            line,
            "info",
        )
    return LoadProblem(
        "invalid-structure",
        f"unknown tag {shown}: CloudFormation knows only the short forms of its intrinsic "
        "functions (!Ref, !Sub, !GetAtt, ...) and rejects the template",
        line,
    )
