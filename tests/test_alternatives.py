"""Independently written templates that meet every entry another way pass; their bad siblings fail.

`fixtures/architectures/<architecture>/` holds, per architecture, templates written
from the catalogue (not from the reference): a SAM one, plain CloudFormation ones
making other valid choices, one in the shape `cdk synth` emits and a production-style
stack of local nested stacks with per-environment Mappings and Conditions. Each
`bad-*` sibling breaks one entry only for a non-default environment or through a
child stack, marked `# expect: AL123` (JSON: a `.expect` sidecar).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archlint.engine import Checker, Options
from archlint.rule import ARCHITECTURES
from conftest import FIXTURES
from fixture_support import expected

ALTERNATIVES = FIXTURES / "architectures"
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json")
_CHILD = re.compile(r"TemplateURL\"?:\s*\"?([\w./-]+\.(?:yaml|yml|json))")


def _templates(kind: str) -> list[Path]:
    return sorted(p for p in ALTERNATIVES.glob(f"*/{kind}-*") if p.suffix in TEMPLATE_SUFFIXES)


def _children(path: Path) -> list[Path]:
    """The local nested templates a template names (and theirs)."""
    found = []
    for name in _CHILD.findall(path.read_text(encoding="utf-8")):
        child = (path.parent / name).resolve()
        if child.is_file() and child not in found:
            found.append(child)
            found.extend(c for c in _children(child) if c not in found)
    return found


def _findings(path: Path, rules):
    return Checker(rules, Options()).check_path(str(path)) or []


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_has_the_alternative_styles(architecture):
    folder = ALTERNATIVES / architecture
    names = {p.name for p in folder.glob("good-*")}
    assert {"good-sam.yaml", "good-cdk.json", "good-production.yaml"} <= names
    others = names - {"good-sam.yaml", "good-cdk.json", "good-production.yaml"}
    assert others, f"{architecture} has no plain CloudFormation alternative"
    assert _children(folder / "good-production.yaml"), "the production stack nests local stacks"
    for good in folder.glob("good-*"):
        stem = good.name.removeprefix("good-").split(".")[0]
        assert list(folder.glob(f"bad-{stem}-*")), f"{good.name} has no bad sibling"


@pytest.mark.parametrize("path", _templates("good"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_alternative_passes_every_rule(path, all_rules):
    found = [f for f in _findings(path, all_rules) if f.severity != "info"]
    assert found == [], "\n".join(f"{f.file}:{f.line} {f.rule_id} {f.message}" for f in found)


# A finding in a child shared with the good stack is expected from the bad parent:
# `# expect-in: production/media.yaml:67 AL306` (JSON sidecar: `production/media.yaml:67 AL306`).
_EXPECT_IN = re.compile(r"^#\s*expect-in:\s*(\S+):(\d+)\s+(AL\d{3})\s*$", re.M)
_SIDECAR_IN = re.compile(r"^(\S+):(\d+)\s+(AL\d{3})\s*$", re.M)


def _wanted(path: Path) -> set[tuple[str, int, str]]:
    sidecar = path.with_name(path.name + ".expect")
    text = sidecar.read_text() if sidecar.exists() else path.read_text(encoding="utf-8")
    pattern = _SIDECAR_IN if sidecar.exists() else _EXPECT_IN
    wanted = {
        (str((path.parent / name).resolve()), int(line), code)
        for name, line, code in pattern.findall(text)
    }
    if sidecar.exists():  # expected() reads the plain LINE CODE lines only
        plain = "\n".join(ln for ln in text.splitlines() if not _SIDECAR_IN.match(ln))
        lines = {(int(a), b) for a, b in (ln.split() for ln in plain.splitlines() if ln.strip())}
    else:
        lines = expected(path)
    wanted |= {(str(path.resolve()), line, code) for line, code in lines}
    for child in _children(path):
        wanted |= {(str(child), line, code) for line, code in expected(child)}
    return wanted


@pytest.mark.parametrize("path", _templates("bad"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bad_sibling_is_flagged_exactly(path, all_rules):
    wanted = _wanted(path)
    codes = {code for _, _, code in wanted}
    assert codes, f"{path} marks no expected finding"
    found = {
        (str(Path(f.file).resolve()), f.line, f.rule_id)
        for f in _findings(path, all_rules)
        if f.rule_id in codes and f.severity != "info"
    }
    assert found == wanted


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_alternatives_pass_cfn_lint(architecture):
    folder = ALTERNATIVES / architecture
    files = [p for p in _templates("good") if p.parent == folder]
    files += [c for p in list(files) for c in _children(p)]
    cfn_lint = shutil.which("cfn-lint") or f"{sys.executable} -m cfnlint"
    result = subprocess.run(
        [*cfn_lint.split(), "--format", "parseable", "--", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
