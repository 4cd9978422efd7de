"""Conformance matches architectures by what resources do, not by how they are spelled."""

from __future__ import annotations

import json

from archlint.conformance import type_class
from conftest import ROOT, run_archlint

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
