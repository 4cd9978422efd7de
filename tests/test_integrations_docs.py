"""The integration commands in README.md and docs/ci.md work when pasted.

Each checkov and cfn-lint command line of the docs runs in bash, in a
directory with a `templates/` folder, as a user would paste it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

DOCS = [ROOT / "README.md", ROOT / "docs" / "ci.md"]


def _commands(prefix: str) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", doc.read_text(), re.S):
            for line in block.splitlines():
                command = re.sub(r"\s+#.*$", "", line).strip()
                if command.startswith(prefix):
                    found.append((doc.name, command))
    return found


def test_every_integration_is_documented_with_a_command():
    readme = (ROOT / "README.md").read_text()
    for text in (
        "id: archlint",
        "archlint/archlint@",
        'checkov --framework cloudformation --external-checks-dir "$(archlint checkov-dir)"',
        "cfn-lint --append-rules archlint.cfnlint",
        '"$(archlint cfn-lint-rules-dir)"',
        'pip install "archlint @ git+https://github.com/archlint/archlint@main" && archlint',
        "docs/ci.md",
    ):
        assert text in readme, text
    assert len(_commands("checkov ")) >= 2 and len(_commands("cfn-lint ")) >= 3


def test_install_lines_name_a_source_that_exists():
    # No release is on PyPI: every install names the repository, and pre-commit and
    # the Action are pinned to a commit SHA of main.
    for doc in [*DOCS, ROOT / "docs" / "examples" / "gitlab-ci.yml"]:
        text = doc.read_text()
        assert not re.search(r"pip install archlint\b", text), doc.name
        assert "v0.1.0" not in text, doc.name
    readme = (ROOT / "README.md").read_text()
    (rev,) = re.findall(r"rev: (\S+)", readme)
    uses = re.findall(r"uses: archlint/archlint@(\S+)", readme)
    assert re.fullmatch(r"[0-9a-f]{40}", rev) and uses == [rev]


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        NO_COLOR="1",
    )
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    shutil.copy(FIXTURES / "AL102" / "bad.yaml", tmp_path / "templates" / "edge.yaml")
    shutil.copy(FIXTURES / "AL102" / "good.yaml", tmp_path / "templates" / "site.yaml")
    return tmp_path


@pytest.mark.parametrize(("doc", "command"), _commands("checkov "))
def test_documented_checkov_command(doc: str, command: str, project: Path):
    # --skip-download: no call to checkov's vendor for its own checks' metadata
    result = _run(f"{command} --skip-download --compact --quiet", project)
    assert result.returncode == 1, result.stdout + result.stderr
    ours = [r for r in result.stdout.split("Check: ")[1:] if r.startswith("ARCHLINT_")]
    (record,) = ours  # checkov's own checks run too: only archlint's are looked at
    assert record.startswith('ARCHLINT_AL102: "archlint AL102 cloudfront-allows-http')
    assert "FAILED for resource: AWS::CloudFront::Distribution.SiteDistribution" in record
    assert "File: /edge.yaml:" in record


@pytest.mark.parametrize(("doc", "command"), _commands("cfn-lint "))
def test_documented_cfn_lint_command(doc: str, command: str, project: Path):
    result = _run(command, project)
    assert result.returncode & 2, result.stdout + result.stderr
    assert "E9102 the default cache behavior of SiteDistribution allows plain HTTP" in result.stdout
    assert "templates/edge.yaml:24:" in result.stdout
    assert "site.yaml" not in result.stdout
