"""A finding's fingerprint: what it is about, never where its line happens to be.

A baseline (archlint.baseline) and SARIF `partialFingerprints` match findings
across runs by it, so it must survive lines moving (comments, blank lines,
resources added above) and unrelated edits (another resource renamed). It is
made of:

- the rule id;
- the file, with forward slashes and relative to the working directory when
  it is inside it (`./a.yaml`, `a.yaml` and its absolute path are one file);
- the resource's logical id as the user wrote it (for SAM, the resource that
  generated it, with the generated resource's type);
- the finding's requirement (one rule, AL901, judges several);
- a location inside the resource: the property path the finding's line falls
  on (`Properties.DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy`,
  list items as `[2]`, a policy statement with a Sid as `[Sid=ReadAll]`);
- for a finding on the template as a whole (no resource), or whose line is
  outside its resource, the requirement and the message with its digits
  replaced (a message may say "first defined at line 12").
"""

from __future__ import annotations

import hashlib
import os
import re

from archlint.nodes import Map, Seq

# Hex digits of the sha256 kept: 64 bits, no collision among a repository's findings.
LENGTH = 16
SARIF_KEY = "archlint/v1"
_DIGITS = re.compile(r"\d+")
_SEPARATOR = "\x1f"


def digest(rule_id: str, file: str, resource: str | None, where: str) -> str:
    """The hashed fingerprint of these parts (see the module's documentation)."""
    text = _SEPARATOR.join((rule_id, normalised_file(file), resource or "", where))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:LENGTH]


def of_message(
    rule_id: str, file: str, resource: str | None, requirement: str, message: str
) -> str:
    """The fingerprint of a finding known by its message: no loaded tree to place it in."""
    return digest(rule_id, file, resource, f"~{requirement}~{without_digits(message)}")


def of_resource(
    rule_id: str,
    file: str,
    name: str,
    resource: object,
    line: int | None,
    requirement: str,
    message: str,
) -> str:
    """The fingerprint of a finding on `resource` (a `template.Resource`) at `line`.

    `name` is the resource as reported (for SAM, the one the user wrote); a
    resource generated from it adds its type (not its logical id: SAM's
    deployment ids hash the API's body, which unrelated edits change).
    """
    where = property_path(getattr(resource, "body", None), line, getattr(resource, "line", None))
    if where is None:  # the line is outside the resource: its message says what it is
        return of_message(rule_id, file, name, requirement, message)
    if getattr(resource, "origin", None):
        where = f"{getattr(resource, 'type', '')}:{where}"
    # The requirement too: one rule (AL901) judges several catalogue entries.
    return digest(rule_id, file, name, f"{requirement}@{where}")


def without_digits(message: str) -> str:
    return _DIGITS.sub("#", message)


def normalised_file(path: str) -> str:
    """The path as given with forward slashes; relative to the working directory
    when it is inside it."""
    if path == "-":
        return path
    shown = path
    try:
        relative = os.path.relpath(os.path.abspath(path))
    except (ValueError, OSError):  # another drive; a vanished working directory
        relative = ""
    if relative and relative != ".." and not relative.startswith(".." + os.sep):
        shown = relative
    shown = shown.replace(os.sep, "/").replace("\\", "/")
    while shown.startswith("./"):
        shown = shown[2:]
    return shown


def property_path(
    body: object, line: int | None, start: int | None = None, end: int | None = None
) -> str | None:
    """The path inside `body` (a resource's loaded tree) that `line` falls on.

    Descends through the keys and list items that start at or above the
    line and hold it, down to the one that starts on the line (the deepest
    in block style). "" for the resource as a whole (no line, the line of its
    logical id, `start`, or its first key's); None when the line is outside
    the resource (above it, or below `end`, the last line it may span;
    default: the last line its tree knows).
    """
    first = getattr(body, "line", None)
    if line is None or first is None or line in (first, start):
        return ""
    last = end if end is not None else last_line(body)
    if line < first or last is None or line > last:
        return None
    steps: list[str] = []
    node = body
    while isinstance(node, (Map, Seq)):
        child = _child_holding(node, line)
        if child is None:
            break
        step, child_line, value = child
        steps.append(step)
        if child_line == line:
            # The key or item the line holds: not what a flow collection on the
            # same line holds (`Action: [a, b]` is Action, whatever its order),
            # nor a list item's first key (a statement, not its Effect).
            break
        node = value
    return _joined(steps)


def last_line(node: object) -> int | None:
    """The last line a loaded tree knows of (its last key's or item's, recursively)."""
    last = getattr(node, "line", None)
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Map):
            lines = list(current.key_lines.values())
            stack.extend(current.values())
        elif isinstance(current, Seq):
            lines = list(current.item_lines)
            stack.extend(current)
        else:
            continue
        inner = [n for n in (current.line, *lines) if isinstance(n, int)]
        if inner and (last is None or max(inner) > last):
            last = max(inner)
    return last


def _child_holding(node: Map | Seq, line: int) -> tuple[str, int, object] | None:
    """The last child that starts at or above `line` (the first one, of several on a line)."""
    best: tuple[str, int, object] | None = None
    if isinstance(node, Map):
        entries = ((str(key), node.key_lines.get(key), value) for key, value in node.items())
    else:
        entries = (
            (_item_step(index, value), node.line_of(index), value)
            for index, value in enumerate(node)
        )
    for step, start, value in entries:
        if start is None or start > line:
            continue
        if best is None or start > best[1]:
            best = (step, start, value)
    return best


def _item_step(index: int, value: object) -> str:
    sid = value.get("Sid") if isinstance(value, Map) else None
    if isinstance(sid, str) and sid:
        return f"[Sid={sid}]"
    return f"[{index}]"


def _joined(steps: list[str]) -> str:
    text = ""
    for step in steps:
        text += step if step.startswith("[") or not text else f".{step}"
    return text
