"""archlint inside checkov: the real checkov CLI, `--external-checks-dir $(archlint checkov-dir)`.

Users who gate on checkov see archlint's findings as failed ARCHLINT_<code>
checks on the offending resources; these tests run checkov as they would,
on files and directories, from other working directories, on YAML, JSON and
SAM templates, with checkov's own skips, and without archlint importable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import COUNTING_RULE, FIXTURES, ROOT, installed_tool, run_archlint

CHECKS = "ARCHLINT_AL101,ARCHLINT_AL102,ARCHLINT_AL103,ARCHLINT_AL104,ARCHLINT_ERROR"

SAM_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  Resizer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context): pass"
      Environment:
        Variables:
          DB_PASSWORD: hunter2hunter2
      Policies:
        - Statement:
            - Effect: Allow
              Action: "dynamodb:*"
              Resource: "*"
  Quiet:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context): pass"
"""


@pytest.fixture(scope="module")
def checkov_dir() -> str:
    result = run_archlint("checkov-dir")
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().strip()


def run_checkov(
    checkov_dir: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> tuple[int, dict]:
    command = [
        installed_tool("checkov"),
        "--framework",
        "cloudformation",
        "--external-checks-dir",
        checkov_dir,
        "--skip-download",
        "--output",
        "json",
        *args,
    ]
    merged = dict(os.environ, **(env or {}))
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, env=merged, timeout=300
    )
    assert result.stdout.strip(), result.stderr
    data = json.loads(result.stdout)
    reports = data if isinstance(data, list) else [data]
    report = next((r for r in reports if r.get("check_type") == "cloudformation"), reports[0])
    report["stderr"] = result.stderr
    return result.returncode, report


def records(report: dict, kind: str) -> set[tuple[str, str, str]]:
    """(check id, logical id, file as checkov reports it) of failed/passed/skipped checks."""
    return {
        (r["check_id"], r["resource"].rsplit(".", 1)[1], r["file_path"])
        for r in report.get("results", {}).get(f"{kind}_checks", [])
    }


def expected_failures(path: Path, codes: set[str], shown_as: str) -> set[tuple[str, str, str]]:
    """What archlint itself reports on `path`, as checkov failures."""
    result = run_archlint("check", "--format", "json", "--fail-on", "never", str(path))
    findings = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] in codes]
    assert all(f["resource"] for f in findings), "these fixtures have resource findings only"
    return {(f"ARCHLINT_{f['rule_id']}", f["resource"], shown_as) for f in findings}


def test_checkov_dir_is_a_package_with_one_check_module_and_no_policies(checkov_dir: str):
    directory = Path(checkov_dir)
    assert directory.is_absolute() and directory.is_dir()
    import archlint.plugins

    assert directory.parent == Path(archlint.plugins.__file__).resolve().parent
    names = sorted(p.name for p in directory.iterdir() if p.name != "__pycache__")
    modules = [n for n in names if n.endswith(".py") and n != "__init__.py"]
    assert "__init__.py" in names and len(modules) == 1 and modules[0] != "archlint.py"
    assert not [n for n in names if n.endswith((".yaml", ".yml", ".json"))]


def test_yaml_file_fails_the_offending_resources_only(checkov_dir: str):
    bad = FIXTURES / "AL101" / "bad.yaml"
    status, report = run_checkov(
        checkov_dir, "-f", "fixtures/AL101/bad.yaml", "--check", CHECKS, cwd=ROOT
    )
    failed = records(report, "failed")
    assert status == 1
    shown_as = "/fixtures/AL101/bad.yaml"
    assert failed == expected_failures(bad, {"AL101", "AL102", "AL103", "AL104"}, shown_as)
    assert ("ARCHLINT_AL101", "MediaBucket", "/fixtures/AL101/bad.yaml") in failed
    assert ("ARCHLINT_AL101", "SiteDistribution", "/fixtures/AL101/bad.yaml") in failed
    passed = records(report, "passed")
    assert ("ARCHLINT_AL101", "SiteOriginAccessControl", "/fixtures/AL101/bad.yaml") in passed
    assert {c for c, _, _ in passed} >= {"ARCHLINT_ERROR", "ARCHLINT_AL102"}
    assert not [r for r in failed if r[0] == "ARCHLINT_ERROR"]
    by_id = {r["check_id"]: r for r in report["results"]["failed_checks"]}
    assert by_id["ARCHLINT_AL101"]["severity"] == "HIGH"
    assert by_id["ARCHLINT_AL101"]["guideline"].endswith("#al101-s3-origin-not-cloudfront-only")


def test_good_file_passes(checkov_dir: str):
    status, report = run_checkov(
        checkov_dir, "-f", str(FIXTURES / "AL101" / "good.yaml"), "--check", CHECKS, cwd=ROOT
    )
    assert status == 0 and not records(report, "failed")
    assert any(c == "ARCHLINT_AL101" for c, _, _ in records(report, "passed"))


def test_directory_from_another_working_directory_yaml_and_json(checkov_dir: str, tmp_path: Path):
    stacks = tmp_path / "stacks" / "edge"
    stacks.mkdir(parents=True)
    for name in ("bad.yaml", "bad.json", "good.yaml"):
        shutil.copy(FIXTURES / "AL102" / name, stacks / name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # a relative directory, from the directory above it
    status, report = run_checkov(checkov_dir, "-d", "stacks", "--check", CHECKS, cwd=tmp_path)
    failed = records(report, "failed")
    expected = expected_failures(stacks / "bad.yaml", {"AL102"}, "/edge/bad.yaml")
    expected |= expected_failures(stacks / "bad.json", {"AL102"}, "/edge/bad.json")
    assert status == 1 and failed == expected
    assert ("ARCHLINT_AL102", "SiteDistribution", "/edge/bad.yaml") in failed
    assert ("ARCHLINT_AL102", "Cdn", "/edge/bad.json") in failed
    assert ("ARCHLINT_AL102", "SiteDistribution", "/edge/good.yaml") in records(report, "passed")

    # an absolute directory, from an unrelated working directory
    status, report = run_checkov(
        checkov_dir, "-d", str(tmp_path / "stacks"), "--check", CHECKS, cwd=elsewhere
    )
    assert status == 1 and records(report, "failed") == expected


def test_checkov_skip_in_metadata_skips_the_resource(checkov_dir: str, tmp_path: Path):
    text = (FIXTURES / "AL102" / "bad.yaml").read_text()
    anchor = "  SiteDistribution:\n    Type: AWS::CloudFront::Distribution\n"
    assert anchor in text
    skip = textwrap.indent(
        textwrap.dedent(
            """\
            Metadata:
              checkov:
                skip:
                  - id: ARCHLINT_AL102
                    comment: Internal dashboard, HTTP only inside the VPN
            """
        ),
        "    ",
    )
    (tmp_path / "skipped.yaml").write_text(text.replace(anchor, anchor + skip))
    status, report = run_checkov(checkov_dir, "-f", "skipped.yaml", "--check", CHECKS, cwd=tmp_path)
    assert status == 0 and not records(report, "failed")
    skipped = report["results"]["skipped_checks"]
    assert [(r["check_id"], r["resource"]) for r in skipped] == [
        ("ARCHLINT_AL102", "AWS::CloudFront::Distribution.SiteDistribution")
    ]
    assert skipped[0]["check_result"]["suppress_comment"].startswith("Internal dashboard")


def test_sam_findings_land_on_the_serverless_resource(checkov_dir: str, tmp_path: Path):
    (tmp_path / "sam.yaml").write_text(SAM_TEMPLATE)
    status, report = run_checkov(checkov_dir, "-f", "sam.yaml", "--check", CHECKS, cwd=tmp_path)
    assert status == 1
    assert records(report, "failed") == {
        ("ARCHLINT_AL103", "Resizer", "/sam.yaml"),
        ("ARCHLINT_AL104", "Resizer", "/sam.yaml"),
    }
    types = {r["resource"] for r in report["results"]["failed_checks"]}
    assert types == {"AWS::Serverless::Function.Resizer"}
    passed = records(report, "passed")
    assert ("ARCHLINT_AL103", "Quiet", "/sam.yaml") in passed
    assert ("ARCHLINT_AL103", "Uploads", "/sam.yaml") in passed


def test_one_engine_run_per_file_and_template_findings_on_the_first_resource(
    checkov_dir: str, tmp_path: Path
):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "counting.py").write_text(COUNTING_RULE)
    (tmp_path / ".archlint.yaml").write_text("rules-dirs: [rules]\n")
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "sam.yaml").write_text(SAM_TEMPLATE)
    shutil.copy(FIXTURES / "AL101" / "bad.yaml", stacks / "origin.yaml")
    counter = tmp_path / "counter.txt"

    status, report = run_checkov(
        checkov_dir,
        "-d",
        "stacks",
        "--check",
        f"{CHECKS},ARCHLINT_AL998",
        cwd=tmp_path,
        env={"ARCHLINT_TEST_COUNTER": str(counter)},
    )
    assert status == 1
    checked = sorted(Path(p).name for p in counter.read_text().split())
    assert checked == ["origin.yaml", "sam.yaml"], "archlint runs once per template"
    template_level = {r for r in records(report, "failed") if r[0] == "ARCHLINT_AL998"}
    assert template_level == {
        ("ARCHLINT_AL998", "Uploads", "/sam.yaml"),
        ("ARCHLINT_AL998", "SiteBucket", "/origin.yaml"),
    }
    warning = next(
        r for r in report["results"]["failed_checks"] if r["check_id"] == "ARCHLINT_AL998"
    )
    assert warning["severity"] == "MEDIUM"


def test_archlint_failure_fails_the_error_check(checkov_dir: str, tmp_path: Path):
    (tmp_path / ".archlint.yaml").write_text("architecturez: [paid-content]\n")
    (tmp_path / "sam.yaml").write_text(SAM_TEMPLATE)
    status, report = run_checkov(checkov_dir, "-f", "sam.yaml", "--check", CHECKS, cwd=tmp_path)
    assert status == 1
    assert records(report, "failed") == {
        ("ARCHLINT_ERROR", name, "/sam.yaml") for name in ("Uploads", "Resizer", "Quiet")
    }
    assert not records(report, "passed"), "no rule passes on a template archlint did not check"
    assert "architecturez" in report["stderr"]


def test_without_archlint_importable_the_command_answers(checkov_dir: str, tmp_path: Path):
    # checkov's Python cannot import archlint (as with pipx or a container);
    # the plugin falls back to the archlint command, named by ARCHLINT_COMMAND.
    hidden = tmp_path / "hidden" / "archlint"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('archlint is not installed here')\n")
    calls = tmp_path / "calls.txt"
    wrapper = tmp_path / "archlint-command"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{calls}"\n'
        f'exec env -u PYTHONPATH "{sys.executable}" -m archlint "$@"\n'
    )
    wrapper.chmod(0o755)
    (tmp_path / "sam.yaml").write_text(SAM_TEMPLATE)
    env = {"PYTHONPATH": str(hidden.parent), "ARCHLINT_COMMAND": str(wrapper)}
    status, report = run_checkov(
        checkov_dir, "-f", "sam.yaml", "--check", CHECKS, cwd=tmp_path, env=env
    )
    assert status == 1
    assert records(report, "failed") == {
        ("ARCHLINT_AL103", "Resizer", "/sam.yaml"),
        ("ARCHLINT_AL104", "Resizer", "/sam.yaml"),
    }
    lines = calls.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["list-rules", "check"], lines
    assert lines[1].endswith(str(tmp_path / "sam.yaml"))
