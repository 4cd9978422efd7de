"""SAM templates are expanded by the official translator and reported on what the user wrote."""

from __future__ import annotations

import json

from conftest import ROOT, run_archlint

SAM = ROOT / "tests" / "data" / "sam"


def findings(path, *args):
    result = run_archlint("check", "--format", "json", *args, str(path))
    assert b"Traceback" not in result.stderr
    return result, json.loads(result.stdout)["findings"]


def test_generated_resources_are_reported_on_the_sam_resource_at_its_lines():
    result, found = findings(SAM / "thumbnails.yaml")
    assert result.returncode == 1
    got = {(f["rule_id"], f["resource"], f["line"]) for f in found}
    # The plain-text secret, on the function's Environment line.
    assert ("AL103", "Thumbnailer", 15) in got
    # The policy template S3CrudPolicy lets the S3-triggered function write to
    # its own trigger bucket: the generated role is named in the message.
    loop = next(f for f in found if f["rule_id"] == "AL107")
    assert loop["resource"] == "Thumbnailer" and loop["line"] == 17
    assert "ThumbnailerRole" in loop["message"]
    # An inline statement of the SAM Policies list, at its own line.
    assert ("AL104", "Thumbnailer", 18) in got


def test_translator_rejection_is_a_finding(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n"
        "      Handler: index.handler\n"
        "      CodeUri: ./src\n"
        "      Events:\n"
        "        Up:\n"
        "          Type: S3\n"
        "          Properties: {Bucket: not-a-ref, Events: s3:ObjectCreated:*}\n"
    )
    result, found = findings(path)
    assert result.returncode == 1
    assert [f["rule_id"] for f in found] == ["AL007"]
    assert found[0]["line"] == 1 and "S3" in found[0]["message"]


def test_other_transforms_are_an_info(tmp_path):
    path = tmp_path / "macro.yaml"
    path.write_text("Transform: [Count]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    result, found = findings(path)
    assert result.returncode == 0
    assert [(f["rule_id"], f["severity"]) for f in found] == [("AL006", "info")]


def test_language_extensions_loops_are_an_info_not_a_broken_resource(tmp_path):
    path = tmp_path / "foreach.yaml"
    path.write_text(
        "Transform: AWS::LanguageExtensions\n"
        "Parameters:\n  Names: {Type: CommaDelimitedList, Default: 'a,b'}\n"
        "Resources:\n"
        "  Fn::ForEach::Topics:\n"
        "    - TopicName\n"
        "    - !Ref Names\n"
        "    - Topic${TopicName}:\n"
        "        Type: AWS::SNS::Topic\n"
        "  Queue:\n    Type: AWS::SQS::Queue\n"
    )
    result, found = findings(path)
    assert result.returncode == 0
    assert {(f["rule_id"], f["severity"], f["line"]) for f in found} == {
        ("AL006", "info", 1),
        ("AL006", "info", 5),
    }
