"""archlint inside cfn-lint: the real cfn-lint CLI with `--append-rules`.

Users who run cfn-lint get archlint's findings under [EWI]9<digits> ids, at
archlint's lines, suppressible with cfn-lint's own Metadata; these tests run
cfn-lint as they would, with the module path and with the directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archlint.rule import Rule
from conftest import COUNTING_RULE, FIXTURES, ROOT, installed_tool, run_archlint

MODULE = "archlint.plugins.cfnlint_rules"
OURS = re.compile(r"^[EWI]9\d{3}$")

SAM_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Resizer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context): pass"
      Environment:
        Variables:
          DB_PASSWORD: hunter2hunter2
  Quiet:
    Type: AWS::Serverless::Function
    Metadata:
      cfn-lint:
        config:
          ignore_checks: [E9103]
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context): pass"
      Environment:
        Variables:
          API_TOKEN: abcdefabcdefabcdef
"""


def run_cfnlint(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [installed_tool("cfn-lint"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ, **(env or {})),
        timeout=300,
    )


def matches(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> list[dict]:
    """cfn-lint's JSON matches for `args` (templates after `--`)."""
    result = run_cfnlint("--format", "json", *args, cwd=cwd, env=env)
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def ours(found: list[dict]) -> set[tuple[str, str, int, str]]:
    return {
        (
            m["Rule"]["Id"],
            Path(m["Filename"]).name,
            m["Location"]["Start"]["LineNumber"],
            m["Message"],
        )
        for m in found
        if OURS.match(m["Rule"]["Id"])
    }


def archlint_expects(path: Path, code: str, cfnlint_id: str) -> set[tuple[str, str, int, str]]:
    result = run_archlint("check", "--format", "json", "--fail-on", "never", str(path))
    return {
        (cfnlint_id, path.name, f["line"], f["message"])
        for f in json.loads(result.stdout)["findings"]
        if f["rule_id"] == code
    }


def test_every_rule_has_an_id_no_builtin_rule_uses(all_rules: list[Rule]):
    builtin = run_cfnlint("--list-rules").stdout
    with_archlint = run_cfnlint("--append-rules", MODULE, "--list-rules").stdout
    builtin_ids = set(re.findall(r"^([EWI]\d+):", builtin, re.M))
    all_ids = set(re.findall(r"^([EWI]\d+):", with_archlint, re.M))
    assert builtin_ids and not {i for i in builtin_ids if i[1] == "9"}
    letter = {"error": "E", "warning": "W", "info": "I"}
    order = ["error", "warning", "info"]
    # Each rule has an id per severity its findings can have: its own and below.
    wanted = {
        f"{letter[severity]}9{r.code[2:]}"
        for r in all_rules
        for severity in order[order.index(r.severity) :]
    }
    assert all_ids - builtin_ids == wanted
    assert {"E9102", "W9102", "I9102", "W9108", "I9108"} <= wanted and "E9108" not in wanted


@pytest.mark.parametrize("name", ["bad.yaml", "bad.json"])
def test_findings_carry_archlint_message_and_line(name: str):
    path = FIXTURES / "AL102" / name
    result = run_cfnlint("--append-rules", MODULE, "--format", "json", "--", str(path))
    assert result.returncode & 2, "errors set cfn-lint's error bit"
    found = ours(json.loads(result.stdout))
    assert found == archlint_expects(path, "AL102", "E9102")
    assert found and all(rule == "E9102" for rule, _, _, _ in found)


def test_bad_yaml_lines_are_exact():
    found = ours(matches("--append-rules", MODULE, "--", "fixtures/AL102/bad.yaml"))
    assert {(rule, line) for rule, _, line, _ in found} == {("E9102", 24), ("E9102", 34)}


def test_good_fixtures_have_no_archlint_match():
    good = [str(FIXTURES / code / "good.yaml") for code in ("AL101", "AL102", "AL103")]
    assert not ours(matches("--append-rules", MODULE, "--", *good))


def test_rules_directory_works_like_the_module(tmp_path: Path):
    directory = run_archlint("cfn-lint-rules-dir").stdout.decode().strip()
    assert Path(directory).is_dir() and Path(directory).is_absolute()
    path = FIXTURES / "AL101" / "bad.yaml"
    by_dir = ours(matches("--append-rules", directory, "--", str(path), cwd=tmp_path))
    by_module = ours(matches("--append-rules", MODULE, "--", str(path), cwd=tmp_path))
    by_short_name = ours(
        matches("--append-rules", "archlint.cfnlint", "--", str(path), cwd=tmp_path)
    )
    assert by_short_name == by_module
    assert by_dir == by_module == archlint_expects(path, "AL101", "E9101")


def test_sam_and_cfn_lint_ignore_checks_metadata(tmp_path: Path):
    (tmp_path / "sam.yaml").write_text(SAM_TEMPLATE)
    found = matches("--append-rules", MODULE, "--", "sam.yaml", cwd=tmp_path)
    assert {(rule, line) for rule, _, line, _ in ours(found)} == {("E9103", 12)}
    match = next(m for m in found if m["Rule"]["Id"] == "E9103")
    assert match["Location"]["Path"] == ["Resources", "Resizer"]
    assert "DB_PASSWORD" in match["Message"] and match["Level"] == "Error"
    # without the directive, Quiet's finding is there too
    plain = SAM_TEMPLATE.replace("ignore_checks: [E9103]", "ignore_checks: [E9999]")
    (tmp_path / "plain.yaml").write_text(plain)
    found = matches("--append-rules", MODULE, "--", "plain.yaml", cwd=tmp_path)
    assert {(rule, line) for rule, _, line, _ in ours(found)} == {("E9103", 12), ("E9103", 25)}


def test_one_engine_run_per_template_and_template_level_findings(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "counting.py").write_text(COUNTING_RULE)
    (tmp_path / ".archlint.yaml").write_text("rules-dirs: [rules]\n")
    (tmp_path / "sam.yaml").write_text(SAM_TEMPLATE)
    shutil.copy(FIXTURES / "AL102" / "bad.yaml", tmp_path / "edge.yaml")
    counter = tmp_path / "counter.txt"
    found = matches(
        "--append-rules",
        MODULE,
        "--",
        "sam.yaml",
        "edge.yaml",
        cwd=tmp_path,
        env={"ARCHLINT_TEST_COUNTER": str(counter)},
    )
    checked = sorted(Path(p).name for p in counter.read_text().split())
    assert checked == ["edge.yaml", "sam.yaml"], "archlint runs once per template"
    warnings = [m for m in found if m["Rule"]["Id"] == "W9998"]
    assert {(Path(m["Filename"]).name, m["Level"]) for m in warnings} == {
        ("sam.yaml", "Warning"),
        ("edge.yaml", "Warning"),
    }
    assert all(m["Location"]["Start"]["LineNumber"] == 1 for m in warnings)
    assert ("E9102", "edge.yaml", 24) in {(r, f, line) for r, f, line, _ in ours(found)}


def test_archlint_failure_is_one_rule_error_per_template(tmp_path: Path):
    (tmp_path / ".archlint.yaml").write_text("architecturez: [paid-content]\n")
    (tmp_path / "sam.yaml").write_text(SAM_TEMPLATE)
    shutil.copy(FIXTURES / "AL102" / "bad.yaml", tmp_path / "edge.yaml")
    result = run_cfnlint(
        "--append-rules", MODULE, "--format", "json", "--", "sam.yaml", "edge.yaml", cwd=tmp_path
    )
    found = json.loads(result.stdout)
    errors = [m for m in found if m["Rule"]["Id"] == "E0002"]
    assert sorted(Path(m["Filename"]).name for m in errors) == ["edge.yaml", "sam.yaml"]
    assert all("architecturez" in m["Message"] for m in errors)
    assert not ours(found) and result.returncode & 2


def test_without_archlint_importable_the_command_answers(tmp_path: Path):
    hidden = tmp_path / "hidden" / "archlint"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('archlint is not installed here')\n")
    command = f"env -u PYTHONPATH {sys.executable} -m archlint"
    directory = run_archlint("cfn-lint-rules-dir").stdout.decode().strip()
    (tmp_path / "sam.yaml").write_text(SAM_TEMPLATE)
    env = {"PYTHONPATH": str(hidden.parent), "ARCHLINT_COMMAND": command}
    found = matches("--append-rules", directory, "--", "sam.yaml", cwd=tmp_path, env=env)
    assert {(rule, line) for rule, _, line, _ in ours(found)} == {("E9103", 12)}


def test_a_finding_less_severe_than_its_rule_has_its_own_severity_id(tmp_path: Path):
    # AL102 is an error rule; a ViewerProtocolPolicy from a parameter without a
    # default is an info ("cannot tell"), and must not fail cfn-lint as an error.
    (tmp_path / "cdn.yaml").write_text(
        "Parameters:\n"
        "  Policy: {Type: String}\n"
        "Resources:\n"
        "  Cdn:\n"
        "    Type: AWS::CloudFront::Distribution\n"
        "    Properties:\n"
        "      DistributionConfig:\n"
        "        Enabled: true\n"
        "        Origins: [{Id: web, DomainName: example.com,"
        " CustomOriginConfig: {OriginProtocolPolicy: https-only}}]\n"
        "        DefaultCacheBehavior:\n"
        "          TargetOriginId: web\n"
        "          CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6\n"
        "          ViewerProtocolPolicy: !Ref Policy\n"
    )
    found = ours(
        matches("--append-rules", MODULE, "--include-checks", "I", "--", "cdn.yaml", cwd=tmp_path)
    )
    assert {(rule, line) for rule, _, line, _ in found} == {("I9102", 13)}
    # cfn-lint leaves informational rules out by default: the build stays green.
    result = run_cfnlint("--append-rules", MODULE, "--", "cdn.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
