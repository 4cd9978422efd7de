"""The loaded tree: mappings and lists that remember their lines, and load problems.

Shared by the YAML and JSON loaders; everything downstream reads these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Deeper than this, a document is refused: no CloudFormation template nests
# like it, and Python's and libyaml's stacks would not survive much more.
MAX_DEPTH = 256
# Longer integers stay text, in YAML and JSON alike: Python refuses to convert
# more than 4,300 decimal digits, and hex or sexagesimal (`1:2:3`) ones would
# cost time quadratic in their length, for a number no template needs.
MAX_NUMBER_CHARS = 256


class Map(dict):
    """A mapping that knows its own line and the line of each key."""

    __slots__ = ("duplicates", "key_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[object, int] = {}
        # (key, value, line) of keys that appeared again: kept, not dropped,
        # so a second definition cannot hide the first one.
        self.duplicates: list[tuple[object, object, int]] = []

    def line_of(self, key: object) -> int | None:
        return self.key_lines.get(key, self.line)


class Seq(list):
    """A list that knows its own line and the line of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int | None:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


def line_of(node: object, default: int | None = None) -> int | None:
    """The line a loaded value starts on, if it is a container that knows it."""
    return getattr(node, "line", default)


@dataclass(frozen=True)
class LoadProblem:
    """Something wrong with the file itself."""

    kind: str  # "syntax", "encoding", "duplicate-key", "too-large", "empty", "not-template"
    message: str
    line: int | None = 1
    severity: str = "error"


@dataclass
class Loaded:
    """The result of loading one file: a tree (or None) and its problems."""

    root: object
    problems: list[LoadProblem] = field(default_factory=list)
    text: str = ""


def too_deep(line: int) -> LoadProblem:
    return LoadProblem(
        "too-large",
        f"nesting deeper than {MAX_DEPTH} levels; no CloudFormation template nests like this",
        line,
    )


class TooDeep(Exception):
    def __init__(self, problem: LoadProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem
