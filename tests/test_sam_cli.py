"""SAM templates are prepared as the SAM CLI prepares them, and checked without the network.

A template that `sam build && sam deploy` accept is translated (no AL007); one
that the SAM CLI rejects keeps its AL007, with the SAM CLI's own error. The
texts below are what `sam validate --region us-east-1` printed for these
templates (SAM CLI 1.170.0 with aws-sam-translator 1.115.0, run without a
network); `sam validate` raises them from
samcli/lib/translate/sam_template_validator.py,
`SamTemplateValidator.get_translated_template_if_valid`, after the placeholders
of `_replace_local_codeuri` and `_replace_local_image`.
"""

from __future__ import annotations

import copy
import socket

import pytest

from archlint import sam, sam_cli
from archlint.engine import Checker, Options, discover
from archlint.nodes import Map
from archlint.template import Template
from conftest import ROOT

SAM_DATA = ROOT / "tests" / "data" / "sam"
CLI = SAM_DATA / "cli"
SERVERLESS_SAMPLES = ROOT.parent / "shared" / "corpus" / "serverless-samples"

# `sam validate` output for the templates the SAM CLI rejects (see the module docstring).
SAM_CLI_EVENT_CORS = (
    "Error: [InvalidResourceException('ProcessorProcess', "
    "'property Cors not defined for resource of type Api')]"
)
SAM_CLI_IMAGE_WITHOUT_BUILD = (
    "Error: [InvalidResourceException('Resizer', \"'ImageUri' must be set.\")]"
)
SAM_CLI_VTL_EDITOR = (
    "Error: [InvalidResourceException('VTLProcessorFunctionProcessVTL', "
    "'property Cors not defined for resource of type Api')]"
)


@pytest.fixture
def offline(monkeypatch):
    """No socket connects, no name lookups, no boto3 clients: each attempt is recorded."""
    import botocore.session

    attempts: list[str] = []

    def refuse(what):
        def refused(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what == 'connect' else args}")
            raise OSError(f"archlint test: no network ({what})")

        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(botocore.session.Session, "create_client", refuse("boto3 client"))
    return attempts


def check(path, rules):
    return Checker(rules, Options()).check_path(str(path)) or []


def got(findings):
    return {(f.rule_id, f.resource, f.line) for f in findings}


def sam_cli_message(sam_cli_error: str) -> str:
    """The translator's message inside a `sam validate` error line."""
    return sam_cli_error.split(", ", 1)[1].split(")]", 1)[0].strip("'\"")


def test_every_sam_fixture_is_checked_without_a_network_attempt(offline, all_rules):
    paths = sorted(SAM_DATA.rglob("*.yaml"))
    assert len(paths) > 10
    for path in paths:
        findings = check(path, all_rules)
        assert not [f for f in findings if f.rule_id == "AL000"], path
    assert offline == []


def test_global_code_uri_and_inline_code_translate(offline, all_rules):
    findings = check(CLI / "globals-codeuri.yaml", all_rules)
    assert "AL007" not in {f.rule_id for f in findings}
    # The function that takes Globals.Function.CodeUri is checked, at its own lines.
    assert ("AL103", "Orders", 15) in got(findings)
    assert offline == []


def test_omitted_code_uri_is_the_template_folder(offline, all_rules):
    findings = check(CLI / "omitted-codeuri.yaml", all_rules)
    assert got(findings) == {("AL104", "Worker", 10)}
    assert offline == []


def test_image_function_built_from_its_dockerfile_translates(offline, all_rules):
    findings = check(CLI / "image-function.yaml", all_rules)
    assert got(findings) == {("AL103", "Resizer", 12)}
    expanded = _expanded(CLI / "image-function.yaml")
    code = expanded.resources["Resizer"].properties["Code"]
    assert code["ImageUri"] == sam_cli.PLACEHOLDER_IMAGE_URI
    assert offline == []


def test_layers_and_state_machines_with_local_paths_translate(offline, all_rules):
    findings = check(CLI / "layer-state-machine.yaml", all_rules)
    assert "AL007" not in {f.rule_id for f in findings}
    expanded = _expanded(CLI / "layer-state-machine.yaml")
    layers = expanded.of_type("AWS::Lambda::LayerVersion")
    assert {r.origin or r.logical_id for r in layers} == {"Shared", "Defaulted"}
    assert all(r.properties["Content"]["S3Bucket"] == "archlint-placeholder" for r in layers)
    (flow,) = expanded.of_type("AWS::StepFunctions::StateMachine")
    assert flow.properties["DefinitionS3Location"]["Bucket"] == "archlint-placeholder"
    assert offline == []


def test_local_application_template_is_prepared_too(offline, all_rules):
    findings = check(CLI / "local-application.yaml", all_rules)
    (secret,) = [f for f in findings if f.rule_id == "AL103"]
    assert secret.file.endswith("app/child.yaml") and secret.line == 10
    assert "AL007" not in {f.rule_id for f in findings}
    assert offline == []


def test_included_definition_body_with_auth_translates_and_says_what_is_not_seen(
    offline, all_rules
):
    findings = check(CLI / "include-auth.yaml", all_rules)
    assert "AL007" not in {f.rule_id for f in findings}
    notes = sorted((f for f in findings if f.rule_id == "AL006"), key=lambda f: f.line)
    assert [(f.severity, f.line) for f in notes] == [("info", 9), ("info", 24)]
    assert "API Api" in notes[0].message and "merges Auth, Cors" in notes[0].message
    assert "./openapi.yaml" in notes[0].message and "operations" in notes[0].message
    assert "API HttpApi" in notes[1].message and "merges Auth into it" in notes[1].message
    # The generated APIs keep the include: their operations are not in the template.
    expanded = _expanded(CLI / "include-auth.yaml")
    for api_id in ("Api", "HttpApi"):
        body = expanded.resources[api_id].properties["Body"]
        assert body["Fn::Transform"]["Name"] == "AWS::Include"
    # What SAM makes of Auth outside the document is there: the authorizer's permission.
    permission = expanded.resources["ApiTokensAuthorizerPermission"]
    assert permission.type == "AWS::Lambda::Permission" and permission.origin == "Api"
    assert offline == []


def test_included_definition_body_alone_has_no_note(offline, all_rules, tmp_path):
    path = tmp_path / "include.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Api:\n"
        "    Type: AWS::Serverless::HttpApi\n"
        "    Properties:\n"
        "      DefinitionBody:\n"
        "        Fn::Transform: {Name: AWS::Include, Parameters: {Location: api.yaml}}\n"
    )
    assert "AL006" not in {f.rule_id for f in check(path, all_rules)}
    assert offline == []


def test_serverless_repository_application_is_translated_offline(offline, all_rules):
    findings = check(CLI / "sar-application.yaml", all_rules)
    assert [(f.rule_id, f.severity, f.line) for f in findings] == [("AL006", "info", 8)]
    message = findings[0].message
    assert "application Powertools" in message and "Serverless Application Repository" in message
    assert "aws-lambda-powertools-python-layer version 2.0.0" in message
    expanded = _expanded(CLI / "sar-application.yaml")
    stack = expanded.resources["Powertools"]
    assert stack.type == "AWS::CloudFormation::Stack"
    assert stack.properties["TemplateURL"] == sam_cli.PLACEHOLDER_TEMPLATE_URL
    assert offline == []


def test_api_event_with_cors_is_rejected_as_the_sam_cli_rejects_it(offline, all_rules):
    findings = check(CLI / "event-cors.yaml", all_rules)
    assert [(f.rule_id, f.line) for f in findings] == [("AL007", 3)]
    assert sam_cli_message(SAM_CLI_EVENT_CORS) in findings[0].message
    assert "[ProcessorProcess]" in findings[0].message
    assert offline == []


def test_image_function_without_image_or_build_is_rejected_as_the_sam_cli_rejects_it(
    offline, all_rules
):
    findings = check(CLI / "image-without-build.yaml", all_rules)
    assert [f.rule_id for f in findings] == ["AL007"]
    assert sam_cli_message(SAM_CLI_IMAGE_WITHOUT_BUILD) in findings[0].message
    assert offline == []


@pytest.mark.skipif(not SERVERLESS_SAMPLES.is_dir(), reason="shared corpus not present")
def test_serverless_samples_translate_except_what_the_sam_cli_rejects(offline, all_rules):
    checker = Checker(all_rules, Options())
    rejected = {}
    for path, explicit in discover([str(SERVERLESS_SAMPLES)]):
        for finding in checker.check_path(path, explicit) or []:
            assert finding.rule_id != "AL000", finding
            if finding.rule_id == "AL007":
                rejected[path.split("serverless-samples/", 1)[1]] = finding.message
    # apigw-vtl-editor puts Cors on an Api event; `sam validate` rejects it the same way.
    assert list(rejected) == ["apigw-vtl-editor/template.yaml"]
    assert sam_cli_message(SAM_CLI_VTL_EDITOR) in rejected["apigw-vtl-editor/template.yaml"]
    assert offline == []


def test_prepare_puts_placeholders_where_sam_package_puts_locations():
    document = {
        "Globals": {"Function": {"CodeUri": "./src"}},
        "Resources": {
            "Inherits": {"Type": sam_cli.FUNCTION, "Properties": {}},
            "Own": {"Type": sam_cli.FUNCTION, "Properties": {"CodeUri": "own/"}},
            "InS3": {"Type": sam_cli.FUNCTION, "Properties": {"CodeUri": "s3://b/k.zip"}},
            "Mapping": {
                "Type": sam_cli.FUNCTION,
                "Properties": {"CodeUri": {"Bucket": "b", "Key": "k"}},
            },
            "Inline": {"Type": sam_cli.FUNCTION, "Properties": {"InlineCode": "x"}},
            "Built": {
                "Type": sam_cli.FUNCTION,
                "Properties": {"PackageType": "Image"},
                "Metadata": {"Dockerfile": "Dockerfile", "DockerContext": "."},
            },
            "Unbuilt": {"Type": sam_cli.FUNCTION, "Properties": {"PackageType": "Image"}},
            "Layer": {"Type": sam_cli.LAYER, "Properties": {}},
            "Flow": {"Type": sam_cli.STATE_MACHINE, "Properties": {"DefinitionUri": "f.json"}},
            "App": {"Type": sam_cli.APPLICATION, "Properties": {"Location": "app/t.yaml"}},
        },
    }
    prepared = copy.deepcopy(document)
    sam_cli.prepare(prepared)
    placeholder = sam_cli.PLACEHOLDER_S3_URI
    resources = prepared["Resources"]
    assert prepared["Globals"]["Function"]["CodeUri"] == placeholder
    assert resources["Inherits"]["Properties"] == {}  # the global CodeUri applies
    assert resources["Own"]["Properties"]["CodeUri"] == placeholder
    for unchanged in ("InS3", "Mapping", "Inline", "Unbuilt"):
        assert resources[unchanged] == document["Resources"][unchanged]
    assert resources["Built"]["Properties"]["ImageUri"] == sam_cli.PLACEHOLDER_IMAGE_URI
    assert resources["Layer"]["Properties"]["ContentUri"] == placeholder
    assert resources["Flow"]["Properties"]["DefinitionUri"] == placeholder
    assert resources["App"]["Properties"]["Location"] == sam_cli.PLACEHOLDER_TEMPLATE_URL


def _expanded(path) -> Template:
    template = Template.from_bytes(str(path), path.read_bytes())
    result = sam.expand(template)
    assert result.template is not None, result.error
    assert isinstance(result.template.root, Map)
    return result.template
