"""Baselines through the command line: `--write-baseline`, `--baseline`, `baseline:` in the
config, and the fingerprints they match by (JSON `fingerprint`, SARIF `partialFingerprints`)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_archlint

STACK = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sqs:ReceiveMessage
                Resource: !GetAtt JobQueue.Arn
              - Effect: Allow
                Action: "s3:*"
                Resource: "*"
  JobQueue:
    Type: AWS::SQS::Queue
  SiteDistribution:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins:
          - Id: api
            DomainName: api.example.com
            CustomOriginConfig:
              OriginProtocolPolicy: https-only
        DefaultCacheBehavior:
          TargetOriginId: api
          ViewerProtocolPolicy: allow-all
          CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
        CacheBehaviors:
          - PathPattern: /static/*
            TargetOriginId: api
            ViewerProtocolPolicy: redirect-to-https
            CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
"""

# Lines moved (comments and blank lines above and inside), a resource added
# above the offending ones, and the queue renamed (with its reference).
MOVED = (
    STACK.replace(
        'AWSTemplateFormatVersion: "2010-09-09"\n',
        "# The worker stack.\n\n# Owned by the platform team.\n"
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Description: worker and site\n",
    )
    .replace(
        "Resources:\n",
        "Resources:\n  AuditTopic:\n    Type: AWS::SNS::Topic\n"
        "    Properties:\n      TopicName: audit\n\n",
    )
    .replace(
        "            Statement:\n", "            # what the worker may do\n            Statement:\n"
    )
    .replace("JobQueue", "WorkQueue")
    .replace(
        "        DefaultCacheBehavior:\n", "\n        # the API\n        DefaultCacheBehavior:\n"
    )
)

THIRD_STATEMENT = STACK.replace(
    '                Resource: "*"\n',
    '                Resource: "*"\n'
    "              - Effect: Allow\n"
    '                Action: "dynamodb:*"\n'
    '                Resource: "*"\n',
)

SECOND_BEHAVIOR = STACK.replace(
    "            ViewerProtocolPolicy: redirect-to-https\n",
    "            ViewerProtocolPolicy: allow-all\n",
)


def _json(result) -> dict:
    assert not result.stderr.count(b"Traceback"), result.stderr.decode()
    return json.loads(result.stdout)


def _write(tmp_path: Path, text: str = STACK) -> Path:
    (tmp_path / "stack.yaml").write_text(text)
    return tmp_path


def _adopted(tmp_path: Path) -> Path:
    """The stack and its baseline, written by `--write-baseline`."""
    (tmp_path / "stack.yaml").write_text(STACK)
    result = run_archlint("check", "--write-baseline", "baseline.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert b"wrote 2 finding(s) to baseline baseline.json" in result.stderr
    assert "All checks passed: 1 file checked (2 baselined)." in result.stdout.decode()
    return tmp_path / "baseline.json"


def test_write_baseline_records_fingerprints_and_what_they_are(tmp_path):
    before = _json(run_archlint("check", "--format", "json", "stack.yaml", cwd=_write(tmp_path)))
    data = json.loads(_adopted(tmp_path).read_text())
    assert data["version"] == 1
    recorded = {(e["rule_id"], e["resource"], e["fingerprint"]) for e in data["findings"]}
    assert recorded == {(f["rule_id"], f["resource"], f["fingerprint"]) for f in before["findings"]}
    assert {r[:2] for r in recorded} == {("AL104", "WorkerRole"), ("AL102", "SiteDistribution")}
    assert all(e["file"] == "stack.yaml" and e["message"] for e in data["findings"])
    # The messages say which statement, not which line: the line is the finding's own.
    assert any("statement 2 of inline policy 'worker'" in e["message"] for e in data["findings"])
    assert not any("at line" in e["message"] for e in data["findings"])


def test_moved_lines_added_and_renamed_resources_are_no_new_finding(tmp_path):
    _adopted(tmp_path)
    _write(tmp_path, MOVED)
    plain = _json(run_archlint("check", "--format", "json", "stack.yaml", cwd=tmp_path))
    assert len(plain["findings"]) == 2, "the same two findings, on other lines"
    assert {f["line"] for f in plain["findings"]}.isdisjoint({19, 35})

    result = run_archlint("check", "--baseline", "baseline.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout.decode()
    assert result.stdout.decode() == "All checks passed: 1 file checked (2 baselined).\n"

    report = _json(
        run_archlint(
            "check", "--baseline", "baseline.json", "--format", "json", "stack.yaml", cwd=tmp_path
        )
    )
    assert report["findings"] == []
    assert report["summary"]["baselined"] == 2 and report["summary"]["errors"] == 0


def test_the_same_file_named_another_way_matches(tmp_path):
    _adopted(tmp_path)
    for name in ("./stack.yaml", str(tmp_path / "stack.yaml"), "."):
        result = run_archlint("check", "--baseline", "baseline.json", name, cwd=tmp_path)
        assert result.returncode == 0, (name, result.stdout.decode())


def test_another_offending_statement_is_exactly_the_new_finding(tmp_path):
    _adopted(tmp_path)
    _write(tmp_path, THIRD_STATEMENT)
    result = run_archlint(
        "check", "--baseline", "baseline.json", "--format", "json", "stack.yaml", cwd=tmp_path
    )
    assert result.returncode == 1
    report = _json(result)
    assert [(f["rule_id"], f["resource"], f["line"]) for f in report["findings"]] == [
        ("AL104", "WorkerRole", 21)
    ]
    assert "statement 3 of inline policy 'worker'" in report["findings"][0]["message"]
    assert "dynamodb:*" in report["findings"][0]["message"]
    assert report["summary"]["baselined"] == 2 and report["summary"]["errors"] == 1

    text = run_archlint("check", "--baseline", "baseline.json", "stack.yaml", cwd=tmp_path)
    assert text.returncode == 1
    assert text.stdout.decode().endswith("1 error, 0 warnings in 1 file (2 baselined).\n")


def test_a_second_behavior_allowing_http_is_exactly_the_new_finding(tmp_path):
    _adopted(tmp_path)
    _write(tmp_path, SECOND_BEHAVIOR)
    result = run_archlint(
        "check", "--baseline", "baseline.json", "--format", "json", "stack.yaml", cwd=tmp_path
    )
    assert result.returncode == 1
    findings = _json(result)["findings"]
    assert [(f["rule_id"], f["resource"], f["line"]) for f in findings] == [
        ("AL102", "SiteDistribution", 40)
    ]


def test_sarif_partial_fingerprints_are_the_json_fingerprints(tmp_path):
    _write(tmp_path)
    report = _json(run_archlint("check", "--format", "json", "stack.yaml", cwd=tmp_path))
    sarif = _json(run_archlint("check", "--format", "sarif", "stack.yaml", cwd=tmp_path))
    results = sarif["runs"][0]["results"]
    assert [r["partialFingerprints"]["archlint/v1"] for r in results] == [
        f["fingerprint"] for f in report["findings"]
    ]
    # ... and they stay when lines move.
    _write(tmp_path, MOVED)
    moved = _json(run_archlint("check", "--format", "sarif", "stack.yaml", cwd=tmp_path))
    assert sorted(r["partialFingerprints"]["archlint/v1"] for r in results) == sorted(
        r["partialFingerprints"]["archlint/v1"] for r in moved["runs"][0]["results"]
    )


def test_baseline_named_in_the_config_relative_to_it(tmp_path):
    _adopted(tmp_path)
    ci = tmp_path / "ci"
    ci.mkdir()
    (tmp_path / "baseline.json").rename(ci / "archlint-baseline.json")
    (ci / "archlint.yaml").write_text("baseline: archlint-baseline.json\n")
    _write(tmp_path, MOVED)
    result = run_archlint("check", "--config", "ci/archlint.yaml", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert "(2 baselined)" in result.stdout.decode()

    _write(tmp_path, THIRD_STATEMENT)
    result = run_archlint("check", "--config", "ci/archlint.yaml", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.decode().count("error AL104") == 1

    # --isolated reads no configuration: no baseline either.
    result = run_archlint("check", "--isolated", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "baselined" not in result.stdout.decode()


def test_a_missing_or_broken_baseline_is_a_usage_error_naming_it(tmp_path):
    _write(tmp_path)
    result = run_archlint("check", "--baseline", "nowhere.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert b"nowhere.json" in result.stderr and b"Traceback" not in result.stderr
    assert result.stdout == b"", "nothing is checked"

    (tmp_path / "broken.json").write_text("{not json")
    result = run_archlint("check", "--baseline", "broken.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 2 and b"broken.json" in result.stderr

    (tmp_path / "other.json").write_text('{"findings": "none"}')
    result = run_archlint("check", "--baseline", "other.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 2 and b"not an archlint baseline" in result.stderr

    (tmp_path / "cfg.yaml").write_text("baseline: gone.json\n")
    result = run_archlint("check", "--config", "cfg.yaml", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 2 and b"gone.json" in result.stderr

    (tmp_path / "bad.yaml").write_text("baseline: 3\n")
    result = run_archlint("check", "--config", "bad.yaml", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 2 and b"baseline" in result.stderr

    result = run_archlint("check", "--write-baseline", "no/dir/b.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 2 and b"no/dir/b.json" in result.stderr


DUPLICATES = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: 1
      DelaySeconds: 2
  B:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: 1
      DelaySeconds: 2
"""


def test_identical_fingerprints_match_by_count(tmp_path):
    # Template-level findings: their messages ("first defined at line 6"), digits aside.
    _write(tmp_path, DUPLICATES)
    run_archlint("check", "--write-baseline", "baseline.json", "stack.yaml", cwd=tmp_path)
    data = json.loads((tmp_path / "baseline.json").read_text())
    assert len(data["findings"]) == 2
    assert len({e["fingerprint"] for e in data["findings"]}) == 1

    moved = "# moved\n\n" + DUPLICATES
    _write(tmp_path, moved)
    result = run_archlint("check", "--baseline", "baseline.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 0 and "(2 baselined)" in result.stdout.decode()

    more = moved + "  C:\n    Type: AWS::SQS::Queue\n    Properties:\n"
    more += "      DelaySeconds: 1\n      DelaySeconds: 2\n"
    _write(tmp_path, more)
    result = run_archlint("check", "--baseline", "baseline.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.decode().count("AL002") == 1, "two absorbed, the third is new"
    assert "(2 baselined)" in result.stdout.decode()

    data["findings"] = data["findings"][:1]
    (tmp_path / "one.json").write_text(json.dumps(data))
    _write(tmp_path, DUPLICATES)
    result = run_archlint("check", "--baseline", "one.json", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "(1 baselined)" in result.stdout.decode()


def test_a_config_baseline_cannot_hide_an_unreadable_template(tmp_path):
    # The configuration is the pull request's own; only --baseline can set this aside.
    (tmp_path / "stack.yaml").write_bytes(b'AWSTemplateFormatVersion: "2010-09-09"\nResources: [\n')
    run_archlint("check", "--write-baseline", "baseline.json", "stack.yaml", cwd=tmp_path)
    assert json.loads((tmp_path / "baseline.json").read_text())["findings"]
    assert (
        run_archlint("check", "--baseline", "baseline.json", "stack.yaml", cwd=tmp_path).returncode
        == 0
    )
    (tmp_path / "cfg.yaml").write_text("baseline: baseline.json\n")
    result = run_archlint("check", "--config", "cfg.yaml", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "AL001" in result.stdout.decode()


def test_help_lists_both_options():
    result = run_archlint("check", "--help")
    text = result.stdout.decode()
    assert "--baseline FILE" in text and "--write-baseline FILE" in text
