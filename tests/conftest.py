from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
REFERENCES = ROOT / "reference_templates"
CORPUS = ROOT.parent / "shared" / "corpus" / "aws-cloudformation-templates"


def run_archlint(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run the installed command line as a user would, in a fresh process."""
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "archlint", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def all_rules():
    from archlint.registry import load_rules

    return load_rules()


def installed_tool(name: str) -> str:
    """The console script installed next to this Python, as a user would run it."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    assert found, f"{name} is not installed (pip install -e '.[test]')"
    return found


# A user rule (loaded through `.archlint.yaml` rules-dirs) that reports on the
# template as a whole and counts how often archlint's engine checks a template.
COUNTING_RULE = '''\
import os

from archlint.rule import WARNING, Violation, rule


@rule(code="AL998", name="counted-template", requirement="TEST", severity=WARNING)
def counted(graph):
    """## What it does
    Counts the templates checked, for the integration tests.
    """
    with open(os.environ["ARCHLINT_TEST_COUNTER"], "a", encoding="utf-8") as counter:
        counter.write(graph.template.path + "\\n")
    yield Violation(None, "counted")
'''
