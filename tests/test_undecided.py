"""'Cannot decide' is decided once: a rule passes the Unknown, the engine makes it INFO."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from archlint.engine import Checker, Options
from archlint.registry import ENGINE_RULES, load_rules
from archlint.rule import ERROR, INFO, WARNING, Violation, rule
from archlint.values import Unknown

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !ImportValue SharedBucketName
"""


def test_a_rule_passing_severity_info_raises():
    with pytest.raises(ValueError, match="a rule does not choose INFO"):
        Violation(None, "cannot tell", severity=INFO)


def test_a_rule_may_still_override_with_a_decided_severity():
    assert Violation(None, "a warning-level case", severity=WARNING).severity == WARNING
    assert Violation(None, "plain").severity is None


def test_undecided_makes_the_violation_info_and_appends_the_reason():
    violation = Violation(None, "cannot tell X", line=3, undecided=Unknown("it is imported", 3))
    assert violation.severity == INFO
    assert violation.message == "cannot tell X: it is imported"
    assert violation.line == 3


def test_undecided_keeps_a_message_that_already_holds_the_reason():
    reason = Unknown("it is imported")
    violation = Violation(None, "cannot tell X: it is imported", undecided=reason)
    assert violation.message == "cannot tell X: it is imported"
    # Idempotent: copying an undecided violation neither raises nor repeats the reason.
    assert replace(violation).message == violation.message
    assert replace(violation).severity == INFO


def test_undecided_wins_over_a_decided_severity():
    violation = Violation(None, "cannot tell", severity=ERROR, undecided=Unknown("why"))
    assert violation.severity == INFO


def _bucket_rule():
    @rule(
        code="AL997",
        name="bucket-name-undecided",
        requirement="TEST",
        severity=ERROR,
        resource_types=("AWS::S3::Bucket",),
        fix="Name the bucket in the template.",
    )
    def check(bucket, graph):
        """## What it does
        Reports a bucket name archlint cannot read, for the tests.
        """
        for value in graph.resolver.values_at(bucket.properties, "BucketName"):
            if isinstance(value, Unknown):
                yield Violation(
                    bucket,
                    f"cannot tell the name of bucket {bucket.logical_id}",
                    line=value.line,
                    undecided=value,
                )

    return check.__archlint_rule__


def test_undecided_yields_an_info_finding_with_the_reason_through_the_engine(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    findings = Checker([*ENGINE_RULES, _bucket_rule()], Options()).check_path(str(path))
    found = [f for f in findings or [] if f.rule_id == "AL997"]
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == "info"
    assert finding.line == 6
    assert finding.resource == "Bucket"
    assert finding.message.startswith("cannot tell the name of bucket Bucket: ")
    reason = finding.message.removeprefix("cannot tell the name of bucket Bucket: ")
    assert "SharedBucketName" in reason  # the resolver's: imported from another stack


def test_a_catalogue_rule_reports_the_resolvers_unknown_as_info(tmp_path):
    path = tmp_path / "distribution.yaml"
    path.write_text(
        """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Distribution:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        DefaultCacheBehavior:
          TargetOriginId: origin
          ViewerProtocolPolicy: !ImportValue SharedPolicy
"""
    )
    findings = Checker(load_rules(plugins=False), Options()).check_path(str(path)) or []
    found = [f for f in findings if f.rule_id == "AL102"]
    assert [(f.severity, f.line) for f in found] == [("info", 10)]
    assert found[0].message.startswith(
        "cannot tell the ViewerProtocolPolicy of the default cache behavior of Distribution: "
    )
    assert "SharedPolicy" in found[0].message


def _info_severities(tree: ast.AST) -> list[int]:
    """Lines of calls in `tree` passing `severity=INFO` or `severity="info"`."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg != "severity":
                continue
            value = keyword.value
            if (isinstance(value, ast.Name) and value.id == "INFO") or (
                isinstance(value, ast.Constant) and value.value == "info"
            ):
                lines.append(node.lineno)
    return lines


def test_the_static_check_sees_severity_info():
    assert _info_severities(ast.parse('Violation(r, "m", severity=INFO)')) == [1]
    assert _info_severities(ast.parse('Violation(r, "m", severity="info")')) == [1]
    assert _info_severities(ast.parse('Violation(r, "m", undecided=u)')) == []


@pytest.mark.parametrize("path", sorted(RULES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_rule_module_passes_severity_info(path):
    lines = _info_severities(ast.parse(path.read_text(), filename=str(path)))
    assert lines == [], f"{path.name} picks INFO by hand at lines {lines}: pass undecided="
