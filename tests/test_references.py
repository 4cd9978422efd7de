"""Every reference template deploys as written (cfn-lint) and passes every archlint rule."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from archlint.rule import ARCHITECTURES
from conftest import REFERENCES, run_archlint


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_reference_passes_cfn_lint(name):
    cfn_lint = shutil.which("cfn-lint") or f"{sys.executable} -m cfnlint"
    result = subprocess.run(
        [*cfn_lint.split(), "--format", "parseable", "--", str(REFERENCES / f"{name}.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_reference_passes_every_archlint_rule(name):
    result = run_archlint(
        "check", "--format", "json", "--fail-on", "info", str(REFERENCES / f"{name}.yaml")
    )
    report = json.loads(result.stdout)
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert result.returncode == 0
