"""Random hostile templates always finish, within a bound, with a report (exit 0 or 1).

Hypothesis builds templates from intrinsics that point at each other: `Ref` and
`Fn::GetAtt` chains, `DependsOn` and condition cycles, `Fn::FindInMap` whose keys
come from other lookups, `Fn::Sub` over everything, `Fn::If` over conditions that
may not exist, and YAML anchors and aliases (a node may alias its own ancestor).
Each one is checked in-process under an alarm; a batch of them goes through the
command line once, as CI would run it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archlint.engine import Checker, Options
from archlint.registry import load_rules

RULES = load_rules(plugins=False)
IDS = ["A", "B", "C", "Cond", "Map", "Missing", "AWS::Region", "AWS::NoValue"]
TYPES = [
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::Lambda::Function",
    "AWS::IAM::Role",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFormation::Stack",
    "AWS::DynamoDB::Table",
]
PROPERTIES = ["BucketName", "QueueName", "Role", "TemplateURL", "DistributionConfig", "Policies"]
SECONDS = 20


def _names() -> st.SearchStrategy[str]:
    return st.sampled_from(IDS)


def _value(depth: int = 0) -> st.SearchStrategy[str]:
    """A YAML flow value built from intrinsics that may refer to anything."""
    leaves = st.one_of(
        st.sampled_from(["x", "'*'", "allow-all", "1", "true", "''"]),
        _names().map(lambda n: f"!Ref {n}"),
        _names().map(lambda n: f"!GetAtt {n}.Arn"),
        _names().map(lambda n: f'!Sub "${{{n}}}-${{AWS::Region}}"'),
        st.just("*anchor"),
    )
    if depth >= 3:
        return leaves
    inner = _value(depth + 1)
    return st.one_of(
        leaves,
        st.tuples(_names(), inner, inner).map(lambda t: f"!If [{t[0]}, {t[1]}, {t[2]}]"),
        st.tuples(inner, inner).map(lambda t: f"!FindInMap [Map, {t[0]}, {t[1]}]"),
        st.lists(inner, max_size=3).map(lambda items: f"!Join ['', [{', '.join(items)}]]"),
        st.tuples(st.integers(0, 3), inner).map(lambda t: f"!Select [{t[0]}, [{t[1]}]]"),
        st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
    )


@st.composite
def templates(draw) -> str:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Metadata: &anchor {k: v}", "Parameters:"]
    lines += ["  C:", "    Type: String", "    Default: a", "    AllowedValues: [a, b]"]
    lines += ["Mappings:", "  Map:"]
    for key in ("a", "b", "x"):
        lines += [f"    {key}:", f"      a: {draw(st.sampled_from(['a', 'b', 'x']))}"]
        lines += [f"      b: {draw(st.sampled_from(['a', 'b', 'x']))}"]
    lines += ["Conditions:"]
    lines += [f"  Cond: !Equals [!Ref C, {draw(st.sampled_from(['a', 'b']))}]"]
    lines += [f"  Loop: !And [{{Condition: {draw(st.sampled_from(['Loop', 'Cond', 'Nope']))}}}]"]
    lines += ["Resources:"]
    chosen = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3))
    for index, logical_id in enumerate(chosen):
        lines += [f"  {logical_id}:", f"    Type: {draw(st.sampled_from(TYPES))}"]
        if draw(st.booleans()):
            lines += [f"    DependsOn: [{draw(_names())}]"]
        if draw(st.booleans()):
            lines += [f"    Condition: {draw(st.sampled_from(['Cond', 'Loop', 'Nope']))}"]
        lines += [f"    Properties: &props{index}"]
        for prop in draw(st.lists(st.sampled_from(PROPERTIES), max_size=3, unique=True)):
            lines += [f"      {prop}: {draw(_value())}"]
        # Now and then a node that contains itself through an alias.
        cyclic = draw(st.integers(0, 4)) == 0
        lines += [f"      Self: *props{index}" if cyclic else "      Name: x"]
    return "\n".join(lines) + "\n"


@contextmanager
def _bounded(seconds: int):
    def expired(signum, frame):
        raise TimeoutError(f"checking took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates())
def test_hostile_templates_finish_with_findings_not_failures(text):
    with _bounded(SECONDS):
        findings = Checker(RULES, Options()).check_bytes("hostile.yaml", text.encode()) or []
    crashed = [f.message for f in findings if f.rule_id == "AL000"]
    assert not crashed, text


@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(templates(), min_size=30, max_size=30))
def test_a_directory_of_hostile_templates_gets_a_report(tmp_path_factory, texts):
    folder = tmp_path_factory.mktemp("hostile")
    for index, text in enumerate(texts):
        (folder / f"t{index}.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "archlint", "check", "--format", "json", str(folder)],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr.decode()[-2000:]
    assert b'"summary"' in result.stdout
