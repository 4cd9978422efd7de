"""A rule's documentation, one text for `archlint explain`, SARIF help and docs/rules.md.

The rule's docstring says what it checks and why (ruff's headings). The bad
example and its fix are cut from the rule's own fixtures, so every example
in the documentation is also a test.
"""

from __future__ import annotations

import re
from importlib import resources

from archlint.rule import Rule

_EXPECT = re.compile(r"#\s*expect:\s*(AL\d{3})")


def fixture_text(code: str, name: str) -> str | None:
    try:
        path = resources.files("archlint.fixtures").joinpath(code, name)
        return path.read_text("utf-8") if path.is_file() else None
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        return None


def examples(rule: Rule) -> tuple[str, str] | None:
    """(bad snippet, fixed snippet) from fixtures/<code>/bad.yaml and good.yaml."""
    bad = fixture_text(rule.code, "bad.yaml")
    good = fixture_text(rule.code, "good.yaml")
    if not bad or not good:
        return None
    lines = bad.splitlines()
    for index, line in enumerate(lines):
        match = _EXPECT.search(line)
        if match and match.group(1) == rule.code:
            logical_id = _enclosing_resource(lines, index)
            if logical_id:
                bad_block = _resource_block(lines, logical_id)
                good_block = _resource_block(good.splitlines(), logical_id)
                if bad_block and good_block:
                    return bad_block, good_block
    return None


def _enclosing_resource(lines: list[str], index: int) -> str | None:
    for line in reversed(lines[: index + 2]):
        match = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
        if match:
            return match.group(1)
    return None


def _resource_block(lines: list[str], logical_id: str) -> str | None:
    start = next((i for i, text in enumerate(lines) if text.rstrip() == f"  {logical_id}:"), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith("   ")):
        end += 1
    block = [text for text in lines[start:end] if not _EXPECT.search(text)]
    while block and not block[-1].strip():
        block.pop()
    return "\n".join(block)


def render_rule(rule: Rule) -> str:
    scope = ", ".join(rule.architectures) if rule.architectures else "every template"
    parts = [
        f"# {rule.code} {rule.name}",
        "",
        f"Requirement: {rule.requirement}    Severity: {rule.severity}    Applies to: {scope}",
        "",
        rule.doc.strip(),
    ]
    if "## Example" not in rule.doc:
        found = examples(rule)
        if found:
            bad, good = found
            parts += [
                "",
                "## Example",
                "```yaml",
                bad,
                "```",
                "",
                "## Use instead",
                "```yaml",
                good,
                "```",
            ]
    if rule.fix:
        parts += ["", "## Fix", rule.fix]
    parts += ["", f"More: {rule.help_uri}", ""]
    return "\n".join(parts)
