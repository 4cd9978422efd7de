"""Nested stacks are followed; CDK construct paths are shown."""

from __future__ import annotations

import json

from conftest import ROOT, run_archlint

NESTED = ROOT / "tests" / "data" / "nested"


def report(*args):
    result = run_archlint("check", "--format", "json", *args)
    assert b"Traceback" not in result.stderr
    return result, json.loads(result.stdout)


def test_child_findings_are_reported_in_the_child_file():
    result, data = report(str(NESTED / "parent.yaml"))
    assert result.returncode == 1
    got = {(f["rule_id"], f["file"], f["resource"], f["line"]) for f in data["findings"]}
    assert ("AL102", str(NESTED / "cdn.yaml"), "Distribution", 27) in got


def test_the_graph_crosses_stacks_through_parameters():
    # The child's distribution uses the parent's bucket as origin (passed as a
    # parameter), so the parent's bucket must block public access.
    _, data = report(str(NESTED / "parent.yaml"))
    assert any(
        f["rule_id"] == "AL101" and f["resource"] == "SiteBucket" and f["line"] == 4
        for f in data["findings"]
    )


def test_remote_nested_templates_are_an_info():
    _, data = report(str(NESTED / "parent.yaml"))
    infos = [f for f in data["findings"] if f["rule_id"] == "AL006"]
    assert len(infos) == 1 and "https://s3.amazonaws.com/example/shared.yaml" in infos[0]["message"]


def test_a_child_checked_with_its_parent_and_alone_reports_once():
    _, data = report(str(NESTED))
    keys = [(f["rule_id"], f["file"], f["line"]) for f in data["findings"]]
    assert len(keys) == len(set(keys))
    assert data["summary"]["files"] == 2


def test_cycles_between_nested_templates_terminate(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "Resources:\n  B:\n    Type: AWS::CloudFormation::Stack\n"
        "    Properties: {TemplateURL: ./b.yaml}\n"
    )
    (tmp_path / "b.yaml").write_text(
        "Resources:\n  A:\n    Type: AWS::CloudFormation::Stack\n"
        "    Properties: {TemplateURL: ./a.yaml}\n"
    )
    result, _ = report(str(tmp_path / "a.yaml"))
    assert result.returncode == 0


CDK = ROOT / "tests" / "data" / "cdk" / "cdk.out"


def test_cdk_synth_output_is_checked_with_construct_paths():
    result, data = report(str(CDK))
    assert result.returncode == 1
    assert data["summary"]["files"] == 2  # manifest.json and tree.json are not templates
    got = {(f["rule_id"], f["resource"], f.get("cdk_path")) for f in data["findings"]}
    assert got == {
        ("AL101", "SiteBucket397A1860", "WebsiteStack/SiteBucket/Resource"),
        ("AL101", "SiteBucketPolicy3AC1D0F8", "WebsiteStack/SiteBucket/Policy/Resource"),
        ("AL102", "SiteDistribution3FF9535D", "WebsiteStack/SiteDistribution/Resource"),
        ("AL103", "ApiHandler5E7490E8", "WebsiteStack/ApiHandler/Resource"),
        (
            "AL104",
            "ApiHandlerServiceRoleDefaultPolicy9D0A3A8E",
            "WebsiteStack/ApiHandler/ServiceRole/DefaultPolicy/Resource",
        ),
    }
    assert all(f["file"].endswith("/WebsiteStack.template.json") for f in data["findings"])
    text = run_archlint("check", str(CDK)).stdout.decode()
    assert "(construct WebsiteStack/SiteDistribution/Resource)" in text
