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
    # parameter), so the parent's bucket must block public access: its
    # configuration leaves three flags out, which turns them off.
    _, data = report(str(NESTED / "parent.yaml"))
    assert any(
        f["rule_id"] == "AL101" and f["resource"] == "SiteBucket" and f["line"] == 7
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


def _split_paid_content(tmp_path, with_child: bool = True):
    """The paid-content reference with its signing key group moved into a nested stack."""
    import re

    from conftest import REFERENCES

    text = (REFERENCES / "paid-content.yaml").read_text()
    blocks = {}
    for name in ("SigningPublicKey", "SigningKeyGroup"):
        match = re.search(rf"^  {name}:\n(?:    .*\n|\n)+", text, re.M)
        blocks[name] = match.group(0)
        text = text.replace(match.group(0), "")
    text = text.replace("!Ref SigningKeyGroup", "!GetAtt Signing.Outputs.KeyGroupId")
    text = text.replace("!Ref SigningPublicKey\n", "!GetAtt Signing.Outputs.PublicKeyId\n")
    stack = (
        "  Signing:\n"
        "    Type: AWS::CloudFormation::Stack\n"
        "    Properties:\n"
        "      TemplateURL: ./signing.yaml\n"
        "      Parameters:\n"
        "        NamePrefix: !Ref NamePrefix\n"
        "        SigningPublicKeyPem: !Ref SigningPublicKeyPem\n"
    )
    text = text.replace("\nResources:\n", "\nResources:\n" + stack, 1)
    child = (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Parameters:\n  NamePrefix: {Type: String}\n  SigningPublicKeyPem: {Type: String}\n"
        "Resources:\n"
        + blocks["SigningPublicKey"]
        + blocks["SigningKeyGroup"]
        + "Outputs:\n  KeyGroupId: {Value: !Ref SigningKeyGroup}\n"
        "  PublicKeyId: {Value: !Ref SigningPublicKey}\n"
    )
    (tmp_path / "parent.yaml").write_text(text)
    if with_child:
        (tmp_path / "signing.yaml").write_text(child)
    return tmp_path / "parent.yaml"


def test_architecture_requirements_are_met_across_parent_and_child(tmp_path):
    parent = _split_paid_content(tmp_path)
    result, data = report(str(parent))
    assert result.returncode == 0, [f["message"] for f in data["findings"]]
    assert data["findings"] == []


def test_without_the_child_the_missing_component_is_named(tmp_path):
    parent = _split_paid_content(tmp_path, with_child=False)
    result, data = report(str(parent))
    assert result.returncode == 1
    # PAY-SIGNED-URLS-ONLY's own rule names the key group that is not there;
    # conformance (AL901) does not say it again.
    messages = [f["message"] for f in data["findings"] if f["rule_id"] == "AL304"]
    assert any("not an AWS::CloudFront::KeyGroup of this template" in m for m in messages)
    assert not [f for f in data["findings"] if f["rule_id"] == "AL901"]
