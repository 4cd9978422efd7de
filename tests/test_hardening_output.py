"""Issue 10: safe output and a configuration that is the pull request author's.

Every string a template (or its file name) puts into a report is the author's:
a newline in it must not start a line of its own (`::error file=x::pwned` to
GitHub Actions), ESC sequences must not reach the terminal, and the XML of a
JUnit report must stay readable. A configuration file in the repository is the
author's too: the command line outranks it, it cannot silence the findings
that a template could not be read or checked, and `--isolated` ignores it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import FIXTURES, REFERENCES, run_archlint

TIMEOUT = 120
INJECTED = "/legacy/*\n::error file=x::pwned\r\x1b]0;owned\x07\x01%0A,:"
# A CloudFront behavior that allows HTTP (AL102 at EVIL_LINE) whose PathPattern, quoted in the
# message, carries a workflow command after a newline, ESC sequences and XML-forbidden bytes;
# the logical id carries an ESC sequence (a logical id CloudFormation would reject, still
# reported as written).
EVIL = r"""AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ViewerPolicy: {Type: String, Default: allow-all}
Resources:
  "Site\e[2JDistribution":
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins:
          - Id: api
            DomainName: api.example.com
            CustomOriginConfig: {OriginProtocolPolicy: https-only}
        DefaultCacheBehavior:
          TargetOriginId: api
          CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
          ViewerProtocolPolicy: https-only
        CacheBehaviors:
          - PathPattern: "/legacy/*\n::error file=x::pwned\r\e]0;owned\a\x01%0A,:"
            TargetOriginId: api
            CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
            ViewerProtocolPolicy: !Ref ViewerPolicy
"""
EVIL_LINE = 22
# A file name is the author's as well (Linux allows newlines and ESC in one).
EVIL_NAME = "evil\n::error file=y::named\x1b[31m%,:.yaml"


@pytest.fixture
def evil(tmp_path: Path) -> Path:
    path = tmp_path / EVIL_NAME
    path.write_text(EVIL, encoding="utf-8")
    return path


def _check(*args: str, cwd: Path | None = None):
    result = run_archlint("check", *args, cwd=cwd, timeout=TIMEOUT)
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    return result


# -- text ----------------------------------------------------------------------


def test_text_output_keeps_each_finding_on_its_line_without_escape_sequences(evil: Path):
    result = _check(EVIL_NAME, cwd=evil.parent)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out and "\x01" not in out
    lines = out.splitlines()
    assert len(lines) == 3, lines  # the finding, its fix, the summary
    assert not any(line.startswith("::") for line in lines)
    finding = lines[0]
    assert finding.startswith("evil\\n::error file=y::named\\x1b[31m%,:.yaml")
    assert f":{EVIL_LINE}: error AL102 cloudfront-allows-http [Site\\x1b[2JDistribution]" in finding
    assert "'/legacy/*\\n::error file=x::pwned\\r\\x1b]0;owned\\x07\\x01%0A,:'" in finding
    assert lines[1].startswith("    fix: Set ViewerProtocolPolicy")


def test_text_output_in_colour_has_only_archlint_own_escape_sequences(evil: Path):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"FORCE_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "archlint", "check", str(evil)],
        capture_output=True,
        env=env,
        timeout=TIMEOUT,
    )
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "\x1b[31merror\x1b[0m" in out  # the colours are archlint's own
    for code in ("\x1b[1m", "\x1b[0m", "\x1b[31m", "\x1b[33m", "\x1b[36m"):
        out = out.replace(code, "")
    assert "\x1b" not in out and "Site\\x1b[2JDistribution" in out


def test_visible_escapes_controls_and_keeps_text():
    from archlint.reporters.safe import visible

    assert visible("a\nb\x1b[2J\x9b\u202e\u2028c\td\x00") == (
        "a\\nb\\x1b[2J\\x9b\\u202e\\u2028c\\td\\x00"
    )
    assert visible("plain: é, ü, 漢字 and \\ stay") == "plain: é, ü, 漢字 and \\ stay"


# -- github --------------------------------------------------------------------


def test_github_output_is_one_command_per_finding_escaped_like_the_toolkit(evil: Path):
    result = _check("--format", "github", EVIL_NAME, cwd=evil.parent)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "\x1b" not in out and "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 1, lines
    command = lines[0]
    assert command.startswith("::error file=")
    properties, message = command[len("::error ") :].split("::", 1)
    # Properties: the toolkit's escapes of %, CR, LF, plus : and , in values.
    fields = dict(part.split("=", 1) for part in properties.split(","))
    assert fields["file"] == ("evil\\n%3A%3Aerror file=y%3A%3Anamed\\x1b[31m%25%2C%3A.yaml")
    assert fields["line"] == str(EVIL_LINE)
    assert fields["title"] == "AL102 cloudfront-allows-http"
    # The message: the only line break is the one before Fix, written %0A.
    assert message.startswith("[Site\\x1b[2JDistribution] cache behavior '/legacy/*\\n::error")
    assert "pwned\\r\\x1b]0;owned\\x07\\x01%250A,:'" in message
    assert message.count("%0A") == 1 and "%0AFix: Set ViewerProtocolPolicy" in message


def test_github_escapes_match_the_actions_toolkit():
    from archlint.reporters.github_format import _escape_data, _escape_property

    # @actions/core command.ts: escapeData and escapeProperty.
    assert _escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert _escape_property("a:b,c%\r\n") == "a%3Ab%2Cc%25%0D%0A"


# -- json, sarif, junit ------------------------------------------------------------


def test_json_and_sarif_carry_the_values_exactly(evil: Path):
    report = json.loads(_check("--format", "json", str(evil)).stdout)
    (finding,) = report["findings"]
    assert finding["file"] == str(evil) and finding["resource"] == "Site\x1b[2JDistribution"
    assert INJECTED in finding["message"]
    sarif = json.loads(_check("--format", "sarif", str(evil)).stdout)
    (result,) = sarif["runs"][0]["results"]
    assert INJECTED in result["message"]["text"]
    assert result["locations"][0]["logicalLocations"][0]["name"] == "Site\x1b[2JDistribution"


def test_junit_is_well_formed_xml_whatever_the_template_holds(evil: Path, tmp_path: Path):
    output = tmp_path / "report.xml"
    result = _check("--format", "junit", "--output", str(output), str(evil))
    assert result.returncode == 1
    text = output.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x01" not in text and "\x07" not in text
    root = ET.fromstring(text)  # XML 1.0 forbids those: a parser would refuse the document
    (failure,) = root.iter("failure")
    assert failure.get("type") == "error"
    assert "[Site\\x1b[2JDistribution]" in failure.text
    assert "::error file=x::pwned" in failure.text and "\\x07\\x01%0A" in failure.text
    names = {case.get("classname") for case in root.iter("testcase")}
    assert names == {str(evil).replace("\x1b", "\\x1b")}


# -- configuration ---------------------------------------------------------------

BAD = FIXTURES / "AL102" / "bad.yaml"  # two AL102 errors
WEBSITE = REFERENCES / "serverless-website.yaml"  # passes as serverless-website only


def _config(directory: Path, text: str) -> None:
    (directory / ".archlint.yaml").write_text(textwrap.dedent(text), encoding="utf-8")


def _ids(result) -> list[str]:
    return [f["rule_id"] for f in json.loads(result.stdout)["findings"]]


def test_command_line_fail_on_outranks_the_config(tmp_path: Path):
    _config(tmp_path, "fail-on: never\n")
    assert _check(str(BAD), cwd=tmp_path).returncode == 0
    assert _check("--fail-on", "error", str(BAD), cwd=tmp_path).returncode == 1
    _config(tmp_path, "fail-on: info\n")
    assert _check("--fail-on", "never", str(BAD), cwd=tmp_path).returncode == 0


def test_command_line_select_and_ignore_outrank_the_config(tmp_path: Path):
    _config(tmp_path, "select: [AL101]\nignore: [AL102]\n")
    assert _check(str(BAD), cwd=tmp_path).returncode == 0
    selected = _check("--format", "json", "--select", "AL102", str(BAD), cwd=tmp_path)
    assert selected.returncode == 1 and _ids(selected) == ["AL102", "AL102"]
    _config(tmp_path, "ignore: [AL102]\n")
    not_ignored = _check("--format", "json", "--ignore", "AL101", str(BAD), cwd=tmp_path)
    assert not_ignored.returncode == 1 and _ids(not_ignored) == ["AL102", "AL102"]


def test_command_line_architectures_outrank_the_config(tmp_path: Path):
    _config(tmp_path, "architectures: [paid-content]\n")
    assert _check(str(WEBSITE), cwd=tmp_path).returncode == 1  # not a paid-content stack
    result = _check("--architecture", "serverless-website", str(WEBSITE), cwd=tmp_path)
    assert result.returncode == 0 and b"All checks passed" in result.stdout


def _unreadable_templates(directory: Path) -> list[str]:
    """One template for each finding that says a template could not be read or checked."""
    files = {
        "al001.yaml": 'AWSTemplateFormatVersion: "2010-09-09"\nResources: [\n',
        "al002.yaml": 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'
        "  A: {Type: AWS::SQS::Queue}\n  A: {Type: AWS::SQS::Queue}\n",
        "al003.yaml": 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'
        "  A:\n    Properties: {}\n",
    }
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return sorted(str(directory / name) for name in files)


CRASHING_RULE = '''
from archlint.rule import ERROR, rule

@rule(code="AL990", name="always-crashes", requirement="TEST", severity=ERROR,
      resource_types=("AWS::CloudFront::Distribution",))
def always_crashes(resource, graph):
    """## What it does
    Crashes."""
    raise KeyError("boom")
'''
EXPECTED = {("AL000", 10), ("AL001", 3), ("AL002", 4), ("AL003", 4)}


def _unreadable_run(tmp_path: Path, *args: str):
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "broken.py").write_text(CRASHING_RULE, encoding="utf-8")
    paths = [*_unreadable_templates(tmp_path), str(BAD)]
    result = _check("--format", "json", "--rules-dir", str(rules), *args, *paths, cwd=tmp_path)
    found = json.loads(result.stdout)["findings"]
    return result, {(f["rule_id"], f["line"]) for f in found if f["rule_id"] < "AL004"}


@pytest.mark.parametrize(
    ("config", "crashing_rule_runs"),
    [
        ("ignore: [AL]\n", False),
        ("ignore: [AL00]\n", True),
        ("ignore: [AL000, AL001, AL002, AL003]\n", True),
        (
            "ignore: [rule-internal-error, template-unreadable, duplicate-key, "
            "template-structure-invalid]\n",
            True,
        ),
        ("select: [AL1]\n", False),
        ("select: [AL102]\nignore: [AL0]\nfail-on: never\n", False),
    ],
)
def test_a_config_cannot_silence_templates_that_could_not_be_checked(
    tmp_path: Path, config: str, crashing_rule_runs: bool
):
    _config(tmp_path, config)
    result, found = _unreadable_run(tmp_path)
    assert result.returncode == 1
    # AL000 reports the crash of AL990, so it is there whenever AL990 runs.
    assert found == (EXPECTED if crashing_rule_runs else EXPECTED - {("AL000", 10)})


def test_a_config_still_silences_the_catalogue_rules_it_names(tmp_path: Path):
    _config(tmp_path, "ignore: [AL]\n")
    result, _ = _unreadable_run(tmp_path)
    assert "AL102" not in _ids(result) and "AL990" not in _ids(result)


def test_the_command_line_can_silence_them(tmp_path: Path):
    result, found = _unreadable_run(tmp_path, "--ignore", "AL00")
    assert found == set() and result.returncode == 1  # AL102 of the bad fixture
    result, found = _unreadable_run(tmp_path, "--select", "AL102")
    assert found == set() and set(_ids(result)) == {"AL102"}
    _config(tmp_path, "fail-on: never\n")  # the config's gate cannot pass them ...
    assert _unreadable_run(tmp_path)[0].returncode == 1
    result, found = _unreadable_run(tmp_path, "--fail-on", "never")  # ... the command line's can
    assert result.returncode == 0 and found == EXPECTED


def test_isolated_ignores_every_config_file(tmp_path: Path):
    marker = tmp_path / "ran-the-authors-python"
    rules = tmp_path / "authors-rules"
    rules.mkdir()
    (rules / "payload.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('pwned')\n", encoding="utf-8"
    )
    _config(tmp_path, "rules-dirs: [authors-rules]\nignore: [AL102]\nfail-on: never\n")
    (tmp_path / "pyproject.toml").write_text('[tool.archlint]\nselect = ["AL101"]\n')
    result = _check("--isolated", "--format", "json", str(BAD), cwd=tmp_path)
    assert result.returncode == 1 and _ids(result) == ["AL102", "AL102"]
    assert not marker.exists(), "--isolated must not import the repository's rules-dirs"
    # Without --isolated the repository's config (and its Python) is used: the contrast.
    assert _check(str(BAD), cwd=tmp_path).returncode == 0
    assert marker.exists()


def test_isolated_and_config_are_exclusive(tmp_path: Path):
    _config(tmp_path, "fail-on: never\n")
    result = run_archlint(
        "check", "--isolated", "--config", str(tmp_path / ".archlint.yaml"), str(BAD)
    )
    assert result.returncode == 2 and b"not allowed with" in result.stderr
    assert b"--isolated" in run_archlint("check", "--help").stdout
