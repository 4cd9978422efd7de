"""Conformance matches architectures by what resources do, not by how they are spelled."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from archlint.conformance import type_class
from conftest import FIXTURES, REFERENCES, ROOT, run_archlint

DATA = ROOT / "tests" / "data" / "conformance"


def test_equivalent_types_count_as_one():
    assert type_class("AWS::ApiGatewayV2::Api") == "AWS::ApiGateway::RestApi"
    assert type_class("AWS::Route53::RecordSetGroup") == "AWS::Route53::RecordSet"
    assert type_class("AWS::Lambda::Alias") == "AWS::Lambda::Function"
    assert type_class("AWS::DynamoDB::GlobalTable") == "AWS::DynamoDB::Table"
    assert type_class("AWS::CloudFront::CloudFrontOriginAccessIdentity") == (
        "AWS::CloudFront::OriginAccessControl"
    )
    assert type_class("AWS::SQS::Queue") == "AWS::SQS::Queue"


def test_a_listener_forwarding_by_default_action_conforms_like_one_with_rules():
    # The software-updates reference forwards through a listener rule that
    # checks CloudFront's secret header; this fleet's listener forwards by its
    # default action (and is protected by the prefix list alone).
    path = DATA / "software-updates-default-forward.yaml"
    result = run_archlint("check", "--format", "json", "--select", "AL901", str(path))
    assert json.loads(result.stdout)["findings"] == []
    assert result.returncode == 0


def test_conformance_findings_name_their_catalogue_entry():
    data = json.loads(
        run_archlint("check", "--format", "json", str(FIXTURES / "AL901" / "bad.yaml")).stdout
    )
    (finding,) = [f for f in data["findings"] if f["rule_id"] == "AL901"]
    assert finding["requirement"] == "WEB-WELCOME-EMAIL"
    assert finding["severity"] == "error" and finding["resource"] == "WelcomeEmailMapping"
    assert "condition EmailEnabled" in finding["message"] and "defaults" in finding["message"]


def test_a_part_missing_only_for_another_allowed_value_is_a_warning():
    path = FIXTURES / "AL901" / "bad-warning.yaml"
    data = json.loads(run_archlint("check", "--format", "json", str(path)).stdout)
    (finding,) = [f for f in data["findings"] if f["rule_id"] == "AL901"]
    assert finding["severity"] == "warning"
    assert "SendWelcomeEmail=no" in finding["message"]


def test_a_reference_part_no_entry_marks_is_never_required(tmp_path):
    # The microservices reference has a Kinesis stream between two services;
    # no entry requires one, so a template without it conforms.
    text = (REFERENCES / "microservices.yaml").read_text()
    assert "PaymentEventsStream" in text and "realizes" not in _block(text, "PaymentEventsStream")
    text = text.replace(_block(text, "PaymentEventsStream"), "")
    path = tmp_path / "no-stream.yaml"
    path.write_text(text)
    data = json.loads(
        run_archlint("check", "--format", "json", "--select", "AL901", str(path)).stdout
    )
    assert [f["message"] for f in data["findings"]] == []


def test_a_missing_connection_is_named_on_the_resource_to_fix(tmp_path):
    text = (REFERENCES / "ingestion-pipeline.yaml").read_text()
    path = tmp_path / "no-consumer.yaml"
    path.write_text(text.replace(_block(text, "ConsumerEventSourceMapping"), ""))
    data = json.loads(
        run_archlint("check", "--format", "json", "--select", "AL901", str(path)).stdout
    )
    messages = {f["requirement"]: (f["resource"], f["message"]) for f in data["findings"]}
    resource, message = messages["ING-SQS-TO-LAMBDA"]
    assert resource == "IngestQueue"
    assert message.startswith(
        "IngestQueue feeds (through an event source mapping) no Lambda function (such as "
    )


def _block(text: str, logical_id: str) -> str:
    """A resource's lines in a reference template, up to the next resource or section."""
    start = text.index(f"\n  {logical_id}:\n") + 1
    following = re.search(r"^(  [A-Za-z0-9]+:|[A-Za-z])", text[start + 1 :], re.M)
    return text[start : start + 1 + following.start()] if following else text[start:]


def test_conformance_findings_do_not_depend_on_hash_seeds():
    outputs = set()
    paths = [str(FIXTURES / code) for code in ("AL601", "AL607", "AL901")]
    for seed in ("0", "1", "2"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "archlint",
                "check",
                "--format",
                "json",
                "--select",
                "AL901",
                *paths,
            ],
            capture_output=True,
            env=dict(os.environ, PYTHONHASHSEED=seed),
            timeout=120,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
