"""Reading fixture expectations: `# expect: AL101` on the line before the node."""

from __future__ import annotations

import re
from pathlib import Path

from archlint.engine import Checker, Options

EXPECT = re.compile(r"#\s*expect:\s*((?:AL\d{3}[ ,]*)+)")


def expected(path: Path) -> set[tuple[int, str]]:
    """(line, rule id) pairs a bad fixture must produce, exactly."""
    sidecar = path.with_name(path.name + ".expect")
    if sidecar.exists():
        pairs = set()
        for raw in sidecar.read_text().splitlines():
            if raw.strip() and not raw.startswith("#"):
                line, code = raw.split()
                pairs.add((int(line), code))
        return pairs
    lines = path.read_text().splitlines()
    pairs = set()
    for index, text in enumerate(lines):
        match = EXPECT.search(text)
        if not match:
            continue
        target = index + 1
        while target < len(lines) and (
            not lines[target].strip() or lines[target].strip().startswith("#")
        ):
            target += 1
        for code in re.findall(r"AL\d{3}", match.group(1)):
            pairs.add((target + 1, code))
    return pairs


def findings_for(path: Path, rules, code: str | None = None):
    checker = Checker(rules, Options())
    findings = checker.check_path(str(path)) or []
    return [f for f in findings if code is None or f.rule_id == code]
