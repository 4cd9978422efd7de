"""archlint as a CI gate: the GitHub Action, the example workflows, and docs/ci.md.

GitHub itself cannot run here, so the tests check what can be checked for
real: action.yml and the example workflows against the schemas GitHub and
GitLab publish (check-jsonschema's vendored copies, no network), the action's
own script run by bash exactly as the runner runs it (`bash --noprofile
--norc -eo pipefail`), and the documented workflows against the files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import FIXTURES, ROOT, installed_tool

ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "docs" / "examples" / "archlint-workflow.yml"
GITLAB = ROOT / "docs" / "examples" / "gitlab-ci.yml"
CI_DOC = ROOT / "docs" / "ci.md"
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [installed_tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def step(steps: list[dict], **match: str) -> dict:
    return next(s for s in steps if all(s.get(k) == v for k, v in match.items()))


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ("vendor.github-actions", ACTION),
        ("vendor.github-workflows", WORKFLOW),
        ("vendor.gitlab-ci", GITLAB),
    ],
    ids=["action", "github-workflow", "gitlab-ci"],
)
def test_files_match_the_published_schemas(schema: str, path: Path):
    result = check_jsonschema(schema, path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_has_teeth(tmp_path: Path):
    broken = action()
    for item in broken["runs"]["steps"]:
        item.pop("shell", None)  # a composite `run` step must name its shell
    (tmp_path / "action.yml").write_text(yaml.safe_dump(broken))
    result = check_jsonschema("vendor.github-actions", tmp_path / "action.yml")
    assert result.returncode == 1, result.stdout


def test_action_shape():
    data = action()
    assert set(data["inputs"]) == {
        "paths",
        "architectures",
        "format",
        "fail-on",
        "sarif-file",
        "upload-sarif",
        "isolated",
        "python-version",
    }
    assert data["inputs"]["isolated"]["default"] == "false"
    assert data["inputs"]["upload-sarif"]["default"] == "true"
    steps = data["runs"]["steps"]
    assert data["runs"]["using"] == "composite"
    assert steps[0]["uses"].startswith("actions/setup-python@")
    install = step(steps, name="Install archlint")
    assert "pip install" in install["run"] and "github.action_path" in str(install["env"])
    upload = step(steps, uses="github/codeql-action/upload-sarif@v3")
    assert upload["if"].startswith("(success() || failure()) && inputs.upload-sarif == 'true'")
    assert steps[-1]["if"] == "steps.check.outputs.exit-code != '0'"


def run_check_step(
    workdir: Path,
    paths: str,
    *,
    architectures: str = "",
    fmt: str = "text",
    fail_on: str = "",
    sarif: str = "archlint.sarif",
    isolated: str = "false",
) -> tuple[int, dict[str, str], str]:
    """The action's `Run archlint` step, under bash as GitHub runs it."""
    script = workdir / "check-step.sh"
    script.write_text(step(action()["runs"]["steps"], id="check")["run"])
    outputs = workdir / "github-output"
    outputs.write_text("")
    env = dict(
        os.environ,
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        NO_COLOR="1",
        GITHUB_OUTPUT=str(outputs),
        ARCHLINT_PATHS=paths,
        ARCHLINT_ARCHITECTURES=architectures,
        ARCHLINT_FORMAT=fmt,
        ARCHLINT_FAIL_ON=fail_on,
        ARCHLINT_SARIF=sarif,
        ARCHLINT_ISOLATED=isolated,
    )
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return result.returncode, values, result.stdout + result.stderr


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    shutil.copy(FIXTURES / "AL102" / "bad.yaml", stacks / "bad.yaml")
    shutil.copy(FIXTURES / "AL102" / "good.yaml", tmp_path / "good.yaml")
    return tmp_path


def test_action_findings_are_recorded_not_fatal_and_sarif_is_valid(workdir: Path):
    status, outputs, log = run_check_step(workdir, "stacks/\ngood.yaml")
    assert status == 0, log  # the step records; the last step fails the job
    assert outputs == {
        "exit-code": "1",
        "sarif-file": "archlint.sarif",
        "sarif-written": "true",
    }
    assert "stacks/bad.yaml:24: error AL102 cloudfront-allows-http" in log
    sarif = json.loads((workdir / "archlint.sarif").read_text())
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"AL102"}


def test_action_annotations_and_fail_on(workdir: Path):
    status, outputs, log = run_check_step(workdir, "stacks", fmt="github", fail_on="never")
    assert status == 0 and outputs["exit-code"] == "0"
    assert re.search(r"^::error file=stacks/bad\.yaml,line=24,", log, re.M), log

    status, outputs, log = run_check_step(workdir, "good.yaml", fmt="github")
    assert status == 0 and outputs["exit-code"] == "0" and "::error" not in log


def test_action_architectures_and_configured_fail_on(workdir: Path):
    _, outputs, log = run_check_step(
        workdir, "good.yaml", architectures="serverless-website, mobile-app"
    )
    assert outputs["exit-code"] == "1", log
    assert " AL401 " in log and " AL502 " in log  # rules of both architectures ran

    (workdir / ".archlint.yaml").write_text("fail-on: never\n")
    _, outputs, _ = run_check_step(workdir, "stacks")
    assert outputs["exit-code"] == "0", "an empty fail-on input leaves it to .archlint.yaml"
    _, outputs, _ = run_check_step(workdir, "stacks", fail_on="error")
    assert outputs["exit-code"] == "1"
    # A fork's pull request: the repository's .archlint.yaml is not trusted.
    _, outputs, _ = run_check_step(workdir, "stacks", isolated="true")
    assert outputs["exit-code"] == "1", "isolated ignores the configured fail-on: never"


def test_action_usage_error_writes_no_sarif(workdir: Path):
    (workdir / "archlint.sarif").write_text("stale")
    status, outputs, log = run_check_step(workdir, "no-such-dir")
    assert status == 0
    assert outputs["exit-code"] == "2" and outputs["sarif-written"] == "false", log


@pytest.mark.parametrize(("archlint_status", "message"), [("1", "findings"), ("2", "failed")])
def test_action_last_step_fails_with_archlint_status(
    tmp_path: Path, archlint_status: str, message: str
):
    script = tmp_path / "fail-step.sh"
    script.write_text(action()["runs"]["steps"][-1]["run"])
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=dict(os.environ, ARCHLINT_STATUS=archlint_status, ARCHLINT_FAIL_ON="error"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == int(archlint_status)
    assert result.stdout.startswith("::error title=archlint::") and message in result.stdout


def test_example_workflow_uses_the_action_as_documented():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"] == {"contents": "read", "security-events": "write"}
    steps = workflow["jobs"]["archlint"]["steps"]
    uses = next(s for s in steps if s.get("uses", "").startswith("archlint/archlint@"))
    assert set(uses["with"]) <= set(action()["inputs"])
    assert True in workflow  # PyYAML reads the `on:` key as a boolean
    assert "pull_request" in workflow[True]


def _fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_ci_doc_embeds_the_example_files():
    doc = CI_DOC.read_text()
    blocks = [yaml.safe_load(b) for b in _fenced(doc, "yaml")]
    assert yaml.safe_load(WORKFLOW.read_text()) in blocks
    assert yaml.safe_load(GITLAB.read_text()) in blocks
    assert "security-events: write" in doc and "contents: read" in doc
    assert "--format github" in doc
    assert (
        'pip install "archlint @ git+https://github.com/archlint/archlint@main" && archlint check '
        "templates/" in doc
    )
