"""Issue 10: one template never aborts a run; cycles, undeployable structure and
values past the combination cap are reported, never passed or dropped."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archlint import combine, nested
from archlint.engine import Checker, Options
from archlint.template import Template
from archlint.values import MAX_COMBINATIONS, Lit, Resolver, Unknown
from conftest import FIXTURES, ROOT, run_archlint
from fixture_support import expected, findings_for

STRUCTURE = FIXTURES / "AL003"
TIME_LIMIT = 60  # seconds for one archlint run: generous, never sub-second
BAD = sorted(p for p in STRUCTURE.glob("bad-*") if p.suffix in (".yaml", ".json"))
GOOD = sorted(STRUCTURE.glob("good-*.yaml"))
QUEUE_WITHOUT_DLQ = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"


def check(*args: str, cwd: Path | None = None) -> tuple[int, list[dict], float]:
    """Exit code, findings and seconds of one `archlint check --format json` run."""
    start = time.monotonic()
    result = run_archlint("check", "--format", "json", *args, cwd=cwd, timeout=TIME_LIMIT)
    seconds = time.monotonic() - start
    assert b"Traceback" not in result.stderr, result.stderr.decode()[-2000:]
    return result.returncode, json.loads(result.stdout)["findings"], seconds


def rules_of(findings: list[dict], rule_id: str) -> list[dict]:
    return [f for f in findings if f["rule_id"] == rule_id]


# -- 3. undeployable structure: fixtures/AL003 ----------------------------------------


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_structure_fixture_is_flagged_at_its_lines(path, all_rules):
    wanted = expected(path)
    assert wanted, f"{path} marks no expected AL003 finding"
    found = findings_for(path, all_rules)
    assert {(f.line, f.rule_id) for f in found if f.rule_id == "AL003"} == wanted
    assert all(f.severity == "error" for f in found if f.rule_id == "AL003")
    assert not [f for f in found if f.rule_id == "AL000"], "checked without failing"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_structure_fixture_passes(path, all_rules):
    found = [f for f in findings_for(path, all_rules) if f.rule_id.startswith("AL00")]
    assert found == [], "\n".join(f"{f.line} {f.rule_id} {f.message}" for f in found)


def test_structure_fixtures_in_one_run_exit_1_with_every_file_reported():
    code, findings, seconds = check(str(STRUCTURE))
    assert code == 1
    flagged = {Path(f["file"]).name for f in rules_of(findings, "AL003")}
    assert flagged == {p.name for p in BAD}
    assert not rules_of(findings, "AL000")
    assert seconds < TIME_LIMIT


def test_resources_sam_generates_are_defined(tmp_path):
    """Refs to what SAM generates (the role, the implicit API) are no dangling refs;
    a ref to nothing is, at the line the user wrote it."""
    path = tmp_path / "sam.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: index.handler\n"
        "      Runtime: python3.12\n"
        "      InlineCode: 'def handler(event, context): pass'\n"
        "      Environment:\n"
        "        Variables:\n"
        "          ROLE: !GetAtt FnRole.Arn\n"
        "          TABLE: !Ref Missing\n"
        "      Events:\n"
        "        Get: {Type: Api, Properties: {Path: /, Method: get}}\n"
        "Outputs:\n"
        "  Url:\n"
        "    Value: !Sub https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com\n"
    )
    code, findings, _ = check(str(path))
    assert code == 1
    found = [(f["line"], f["resource"]) for f in rules_of(findings, "AL003")]
    assert found == [(12, "Fn")], findings


def test_unknown_tag_is_an_error_and_rain_directives_are_info(tmp_path):
    path = tmp_path / "tags.yaml"
    path.write_text(
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      QueueName: !Foo bar\n"
        "      Tags: !Bar [a]\n"
        "  F:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties:\n"
        "      Code: {ZipFile: !Rain::Embed handler.py}\n"
    )
    code, findings, _ = check(str(path))
    assert code == 1
    assert [(f["line"], f["severity"]) for f in rules_of(findings, "AL003")] == [
        (5, "error"),
        (6, "error"),
    ]
    assert any(f["line"] == 10 and "Rain" in f["message"] for f in rules_of(findings, "AL006"))


def test_templates_with_macros_are_not_judged_by_structure(tmp_path):
    path = tmp_path / "macro.yaml"
    path.write_text(
        "Transform: Count\n"
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties: {QueueName: !Ref MadeByTheMacro}\n"
    )
    code, findings, _ = check(str(path))
    assert not rules_of(findings, "AL003")
    assert rules_of(findings, "AL006")  # the transform is not expanded: said as info
    assert code == 0


# -- 2. cycles: an Unknown with the reason, AL003 where CloudFormation rejects ---------


def _resolver(text: str, path: str = "t.yaml") -> tuple[Resolver, Template]:
    template = Template.from_bytes(path, text.encode())
    return Resolver(template), template


def test_findinmap_cycle_is_an_unknown_naming_the_cycle():
    resolver, template = _resolver(
        "Mappings:\n"
        "  M:\n"
        "    a: {b: !FindInMap [M, a, c], c: !FindInMap [M, a, b]}\n"
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties: {QueueName: !FindInMap [M, a, b]}\n"
    )
    (value,) = resolver.values(template.resources["Q"].properties["QueueName"])
    assert isinstance(value, Unknown)
    assert "cycle" in value.reason and "Fn::FindInMap [M, a, b]" in value.reason


def test_nested_output_passed_back_into_the_child_is_an_unknown(all_rules):
    parent = STRUCTURE / "bad-nested-output-cycle.yaml"
    checker = Checker(all_rules, Options())
    template = Template.from_bytes(str(parent), parent.read_bytes())
    inlined = nested.inline(template, nested.locations(template), checker._load_child)
    resolver = Resolver(inlined.template)
    consumer = inlined.template.resources["Consumer"]
    values = resolver.values(consumer.properties["QueueName"])
    assert values and all(isinstance(v, Unknown) and "cycle" in v.reason for v in values)


def test_values_nested_too_deep_are_unknown_not_a_recursion_error():
    chain = "x"
    for _ in range(110):  # deeper than MAX_RESOLUTION_DEPTH, within the loader's nesting
        chain = "{'Fn::Base64': " + chain + "}"
    resolver, template = _resolver(
        f"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {chain}\n"
    )
    (value,) = resolver.values(template.resources["Q"].properties["QueueName"])
    assert isinstance(value, Unknown) and "deep" in value.reason


# -- 1. one template never aborts a run --------------------------------------------------


@pytest.fixture
def corpus(tmp_path):
    """Templates that aborted the whole run before issue 10, next to a plain one."""
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "child.yaml").write_text(
        (STRUCTURE / "nested" / "echo-child.yaml").read_text()
    )
    (tmp_path / "nested-cycle.yaml").write_text(
        (STRUCTURE / "bad-nested-output-cycle.yaml")
        .read_text()
        .replace("nested/echo-child.yaml", "nested/child.yaml")
    )
    (tmp_path / "findinmap-cycle.yaml").write_text(
        (STRUCTURE / "bad-findinmap-cycle.yaml").read_text()
    )
    entries = [f"      e{i}: !FindInMap [M, k, e{i + 1}]" for i in range(300)]
    (tmp_path / "deep-chain.yaml").write_text(
        "Mappings:\n  M:\n    k:\n"
        + "\n".join(entries)
        + "\n      e300: x\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        "    Properties: {QueueName: !FindInMap [M, k, e0]}\n"
    )
    (tmp_path / "plain.yaml").write_text((FIXTURES / "AL102" / "bad.yaml").read_text())
    return tmp_path


def test_templates_that_aborted_the_run_are_checked_and_reported(corpus):
    code, findings, seconds = check(str(corpus))
    assert code == 1 and seconds < TIME_LIMIT
    by_file: dict[str, list[str]] = {}
    for finding in findings:
        by_file.setdefault(Path(finding["file"]).name, []).append(finding["rule_id"])
    assert "AL000" not in {r for rules in by_file.values() for r in rules}
    assert by_file["nested-cycle.yaml"] == ["AL003"]
    assert by_file["findinmap-cycle.yaml"] == ["AL003"]
    assert by_file["deep-chain.yaml"].count("AL003") == 300  # one per intrinsic entry
    assert "AL102" in by_file["plain.yaml"]  # the other files are still checked


DRIVER = """
import sys
from archlint import cli, engine, graph, sam, structure, template

FAIL = sys.argv[1]
def failing(original, error):
    def replaced(*args, **kwargs):
        if any("boom" in str(getattr(a, "path", a)) for a in args):
            raise error
        return original(*args, **kwargs)
    return replaced

if FAIL == "load":
    template.Template.from_bytes = classmethod(
        failing(template.Template.from_bytes.__func__, ValueError("bad value"))
    )
elif FAIL == "structure":
    structure.check = failing(structure.check, KeyError("Resources"))
elif FAIL == "expand":
    sam.expand = failing(sam.expand, KeyError("CodeUri"))
elif FAIL == "graph":
    graph.ResourceGraph.__init__ = failing(
        graph.ResourceGraph.__init__, RecursionError("maximum recursion depth exceeded")
    )
sys.exit(cli.main(sys.argv[2:]))
"""

SAM_QUEUE = (
    "Transform: AWS::Serverless-2016-10-31\n"
    "Resources:\n"
    "  Fn:\n"
    "    Type: AWS::Serverless::Function\n"
    "    Properties: {Handler: index.handler, Runtime: python3.12, InlineCode: x}\n"
)


@pytest.mark.parametrize(
    ("stage", "error"),
    [
        ("load", "ValueError"),
        ("structure", "KeyError"),
        ("expand", "KeyError"),
        ("graph", "RecursionError"),
    ],
)
def test_exception_at_any_stage_is_that_files_al000(tmp_path, stage, error):
    boom = tmp_path / "boom.yaml"
    boom.write_text(SAM_QUEUE if stage == "expand" else QUEUE_WITHOUT_DLQ)
    other = tmp_path / "other.yaml"
    other.write_text((FIXTURES / "AL102" / "bad.yaml").read_text())
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, stage, "check", "--format", "json", str(tmp_path)],
        capture_output=True,
        timeout=TIME_LIMIT,
        cwd=ROOT,
    )
    assert time.monotonic() - start < TIME_LIMIT
    assert b"Traceback" not in result.stderr, result.stderr.decode()[-2000:]
    assert result.returncode == 1
    findings = json.loads(result.stdout)["findings"]
    (failure,) = rules_of(findings, "AL000")
    assert Path(failure["file"]).name == "boom.yaml"
    assert f"(stage: {stage})" in failure["message"] and error in failure["message"]
    assert any(Path(f["file"]).name == "other.yaml" for f in rules_of(findings, "AL102"))


def test_failing_nested_child_is_its_own_al000_and_the_parent_is_still_checked(
    tmp_path, all_rules, monkeypatch
):
    from archlint import cdk

    (tmp_path / "boom-child.yaml").write_text(QUEUE_WITHOUT_DLQ)
    parent = tmp_path / "parent.yaml"
    parent.write_text(
        "Resources:\n"
        "  Child:\n"
        "    Type: AWS::CloudFormation::Stack\n"
        "    Properties: {TemplateURL: boom-child.yaml}\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties: {QueueName: !Ref Missing}\n"
    )
    original = cdk.inline_bucket_notifications

    def failing(template):
        if "boom" in template.path:
            raise KeyError("BucketName")
        original(template)

    monkeypatch.setattr(cdk, "inline_bucket_notifications", failing)
    findings = Checker(all_rules, Options()).check_path(str(parent)) or []
    (failure,) = [f for f in findings if f.rule_id == "AL000"]
    assert failure.file.endswith("boom-child.yaml") and "KeyError" in failure.message
    assert "expand of a nested stack template" in failure.message
    assert [(f.line, f.rule_id) for f in findings if f.rule_id == "AL003"] == [(7, "AL003")]


# -- 4. every value counts past the combination cap ------------------------------------


def test_product_over_approximates_past_the_cap_with_every_choice():
    choices = [list(range(5)), list(range(7)), list(range(3))]
    full, over = combine.product(choices, 200)
    assert not over and len(full) == 105
    some, over = combine.product(choices, 32)
    assert over and len(some) == 1 + 4 + 6 + 2
    for index, options in enumerate(choices):
        assert {c[index] for c in some} == set(options)


def _policy_in_40th_combination() -> str:
    # Three parts: the policy (2 values), then two lookups keyed by the region
    # (any row: 3 and 13 values, all empty). Product order varies the last part
    # fastest, so allow-all first comes in combination 1*3*13 = 39 (the 40th),
    # past the cap; every other combination is redirect-to-https.
    rows = lambda count: ", ".join(f"r{i}: {{v: ''}}" for i in range(count))  # noqa: E731
    return (
        "Parameters:\n"
        "  Policy: {Type: String, Default: redirect-to-https, "
        "AllowedValues: [redirect-to-https, allow-all]}\n"
        "Mappings:\n"
        f"  Three: {{{rows(3)}}}\n"
        f"  Thirteen: {{{rows(13)}}}\n"
        "Resources:\n"
        "  Site:\n"
        "    Type: AWS::CloudFront::Distribution\n"
        "    Properties:\n"
        "      DistributionConfig:\n"
        "        Enabled: true\n"
        "        Origins:\n"
        "          - Id: web\n"
        "            DomainName: example.com\n"
        "            CustomOriginConfig: {OriginProtocolPolicy: https-only}\n"
        "        DefaultCacheBehavior:\n"
        "          TargetOriginId: web\n"
        "          ViewerProtocolPolicy: !Join\n"
        "            - ''\n"
        "            - - !Ref Policy\n"
        "              - !FindInMap [Three, !Ref 'AWS::Region', v]\n"
        "              - !FindInMap [Thirteen, !Ref 'AWS::Region', v]\n"
    )


def test_value_in_the_40th_combination_is_still_resolved():
    resolver, template = _resolver(_policy_in_40th_combination())
    node = template.resources["Site"].properties["DistributionConfig"]["DefaultCacheBehavior"]
    values = resolver.values(node["ViewerProtocolPolicy"])
    assert MAX_COMBINATIONS < 2 * 3 * 13
    assert "allow-all" in {v.value for v in values if isinstance(v, Lit)}
    # Any other mix of the parts: nothing of it known, so an Unknown (rules say info).
    assert any(isinstance(v, Unknown) and "over-approximated" in v.reason for v in values)
    assert resolver.over_approximated == [("Fn::Join parts", node.line_of("ViewerProtocolPolicy"))]


def test_violation_in_the_40th_combination_is_found_and_over_approximation_said_once(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(_policy_in_40th_combination())
    code, findings, seconds = check(str(path))
    assert code == 1 and seconds < TIME_LIMIT
    errors = [f for f in rules_of(findings, "AL102") if f["severity"] == "error"]
    assert [(f["line"], "allow-all" in f["message"]) for f in errors] == [(18, True)]
    (info,) = [f for f in rules_of(findings, "AL006") if "combinations" in f["message"]]
    assert f"more than {MAX_COMBINATIONS} combinations of Fn::Join parts" in info["message"]


def test_mix_with_known_text_stays_a_text():
    parameters = "".join(
        f"  P{i}: {{Type: String, Default: a, AllowedValues: [a, b, c]}}\n" for i in range(4)
    )
    resolver, template = _resolver(
        f"Parameters:\n{parameters}Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        '    Properties: {QueueName: !Sub "q-${P0}${P1}${P2}${P3}-${AWS::Region}"}\n'
    )
    values = resolver.values(template.resources["Q"].properties["QueueName"])
    texts = {v.text() for v in values}
    assert {
        "q-aaaa-${AWS::Region}",
        "q-aaca-${AWS::Region}",
        "q-${?}${?}${?}${?}-${AWS::Region}",
    } <= texts
    assert len(values) == 1 + 4 * 2 + 1


def test_huge_products_stay_bounded(tmp_path):
    parameters = "".join(
        f"  P{i}: {{Type: String, Default: a, AllowedValues: [a, b, c]}}\n" for i in range(2000)
    )
    variables = "".join(f"${{P{i}}}" for i in range(2000))
    path = tmp_path / "huge.yaml"
    path.write_text(
        f"Parameters:\n{parameters}Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        f'    Properties:\n      QueueName: !Sub "{variables}"\n'
    )
    code, findings, seconds = check(str(path))
    assert code == 0 and seconds < TIME_LIMIT
    assert any("over-approximated" in f["message"] for f in rules_of(findings, "AL006"))


# -- 5. what cannot be seen is said: AWS::Include policies, intrinsic TemplateURLs ------


def test_aws_include_policy_document_is_info(tmp_path):
    path = tmp_path / "include.yaml"
    path.write_text(
        "Resources:\n"
        "  Role:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        Statement:\n"
        "          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com},"
        " Action: sts:AssumeRole}\n"
        "      Policies:\n"
        "        - PolicyName: included\n"
        "          PolicyDocument:\n"
        "            Fn::Transform:\n"
        "              Name: AWS::Include\n"
        "              Parameters: {Location: s3://bucket/policy.json}\n"
    )
    code, findings, _ = check(str(path))
    assert code == 0
    (info,) = [f for f in rules_of(findings, "AL006") if "AWS::Include" in f["message"]]
    assert "s3://bucket/policy.json" in info["message"] and "not checked" in info["message"]
    assert info["line"] == 11


def test_intrinsic_template_url_is_info(tmp_path):
    path = tmp_path / "parent.yaml"
    path.write_text(
        "Parameters:\n"
        "  Bucket: {Type: String, Default: templates}\n"
        "Resources:\n"
        "  Child:\n"
        "    Type: AWS::CloudFormation::Stack\n"
        "    Properties:\n"
        "      TemplateURL: !Sub https://${Bucket}.s3.amazonaws.com/child.yaml\n"
    )
    code, findings, _ = check(str(path))
    assert code == 0
    (info,) = rules_of(findings, "AL006")
    assert info["line"] == 7 and "Fn::Sub" in info["message"]
    assert "not checked" in info["message"]
