"""The serverless-website and mobile-app architectures written with SAM and with the CDK.

Good templates pass every rule, conformance (AL901) included, with no finding
of any severity. Bad templates hold the mistakes SAM and CDK developers make;
each is caught on what the user wrote: the AWS::Serverless resource and line
for SAM, the construct path (`cdk_path`) for CDK synth output. Between them
the bad templates of each form exercise every WEB-* and MOB-* requirement.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache

import pytest

from conftest import ROOT, run_archlint

DATA = ROOT / "tests" / "data"
SAM = DATA / "sam"
CDK = DATA / "cdk"
CATALOGUE = ROOT.parent / "shared" / "spec" / "architectures.md"

GOOD = (
    SAM / "serverless-website.yaml",
    SAM / "mobile-app.yaml",
    CDK / "website" / "WebsiteStack.template.json",
    CDK / "mobile" / "MobileStack.template.json",
)

# (rule_id, resource, line): the SAM resource the user wrote and the line of
# the property to change. Template-wide findings have no resource and sit on
# the `Resources:` line.
SAM_BAD = {
    "serverless-website-bad.yaml": [
        # CachePolicyId: Managed-CachingDisabled on the site's default behavior.
        ("AL401", "SiteDistribution", 93),
        # AWS::Serverless::SimpleTable and AWS::DynamoDB::Table: single region.
        ("AL403", "PostsTable", 102),
        ("AL403", "UsersTable", 107),
        # No CacheClusterEnabled/MethodSettings on the AWS::Serverless::Api.
        ("AL404", "BlogApi", 120),
        # Policies: [AWSLambdaBasicExecutionRole] only: no DynamoDB policy template.
        ("AL402", "ApiFunction", 134),
        # The DynamoDB stream function has no SESCrudPolicy.
        ("AL405", "WelcomeEmailFunction", 177),
        # S3ReadPolicy on the uploads, but no S3WritePolicy on the thumbnails bucket.
        ("AL406", "ThumbnailFunction", 253),
    ],
    # S3CrudPolicy on the bucket whose S3 event triggers the function; the
    # line is the policy template's, not the managed policy listed before it.
    "serverless-website-bad-recursive.yaml": [("AL107", "ThumbnailFunction", 36)],
    "mobile-app-bad.yaml": [
        ("AL505", None, 35),  # no DAX cluster: the function reads the table directly
        ("AL504", "UserPoolClient", 56),  # GenerateSecret: true
        ("AL503", "AuthenticatedRole", 94),  # ${UserFilesBucket.Arn}/*
        ("AL506", "TodoApi", 145),  # no stage cache on the AWS::Serverless::Api
        ("AL501", "TodoApi", 161),  # Domain.SecurityPolicy: TLS_1_0
        ("AL502", "TodoApi", 176),  # the ListTodos event says Auth: {Authorizer: NONE}
    ],
}

# (rule_id, resource, cdk_path) of `cdk synth` output.
CDK_BAD = {
    "website/WebsiteBadStack.template.json": [
        ("AL401", "SiteDistribution3FF9535D", "WebsiteBadStack/SiteDistribution/Resource"),
        ("AL403", "PostsTableC82B36F0", "WebsiteBadStack/PostsTable/Resource"),
        ("AL403", "UsersTable9725E9C8", "WebsiteBadStack/UsersTable/Resource"),
        (
            "AL402",
            "ApiHandlerServiceRole592E70E9",
            "WebsiteBadStack/ApiHandler/ServiceRole/Resource",
        ),
        (
            "AL404",
            "BlogApiDeploymentStageprodC8FF7BB4",
            "WebsiteBadStack/BlogApi/DeploymentStage.prod/Resource",
        ),
        (
            "AL405",
            "WelcomeEmailServiceRole5538C191",
            "WebsiteBadStack/WelcomeEmail/ServiceRole/Resource",
        ),
        (
            "AL406",
            "ThumbnailerServiceRole1CDAA23E",
            "WebsiteBadStack/Thumbnailer/ServiceRole/Resource",
        ),
    ],
    # uploadBucket.grantReadWrite(thumbnailer) with the bucket's notification
    # made by CDK's Custom::S3BucketNotifications resource.
    "website/WebsiteRecursiveBadStack.template.json": [
        (
            "AL107",
            "ThumbnailerServiceRoleDefaultPolicy9BAC8CD0",
            "WebsiteRecursiveBadStack/Thumbnailer/ServiceRole/DefaultPolicy/Resource",
        ),
    ],
    "mobile/MobileBadStack.template.json": [
        ("AL505", None, None),
        ("AL504", "UserPoolMobileClient046093C2", "MobileBadStack/UserPool/MobileClient/Resource"),
        (
            "AL503",
            "IdentityPoolAuthenticatedRoleDefaultPolicy3DB89FA0",
            "MobileBadStack/IdentityPool/AuthenticatedRole/DefaultPolicy/Resource",
        ),
        (
            "AL506",
            "TodoApiDeploymentStageprod8FC2974F",
            "MobileBadStack/TodoApi/DeploymentStage.prod/Resource",
        ),
        ("AL501", "TodoApiCustomDomain2C983F7A", "MobileBadStack/TodoApi/CustomDomain/Resource"),
        ("AL502", "TodoApitodosGETE281246C", "MobileBadStack/TodoApi/Default/todos/GET/Resource"),
    ],
}


@cache
def check(path) -> tuple[int, tuple[dict, ...]]:
    result = run_archlint("check", "--format", "json", str(path))
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    return result.returncode, tuple(json.loads(result.stdout)["findings"])


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_templates_have_no_finding(path):
    returncode, found = check(path)
    assert [(f["rule_id"], f["severity"], f["message"]) for f in found] == []
    assert returncode == 0


@pytest.mark.parametrize("name", sorted(SAM_BAD))
def test_sam_mistakes_are_reported_on_the_sam_resource_and_line(name):
    returncode, found = check(SAM / name)
    assert returncode == 1
    got = Counter((f["rule_id"], f["resource"], f["line"]) for f in found)
    assert got == Counter(SAM_BAD[name])


@pytest.mark.parametrize("name", sorted(CDK_BAD))
def test_cdk_mistakes_are_reported_with_their_construct_path(name):
    returncode, found = check(CDK / name)
    assert returncode == 1
    got = Counter((f["rule_id"], f["resource"], f.get("cdk_path")) for f in found)
    assert got == Counter(CDK_BAD[name])


def test_no_generated_name_hides_what_the_sam_user_wrote():
    """Findings name resources of the SAM template, never ids SAM generated."""
    for name in SAM_BAD:
        text = (SAM / name).read_text()
        _, found = check(SAM / name)
        for finding in found:
            if finding["resource"] is not None:
                assert re.search(rf"^  {finding['resource']}:$", text, re.M), finding


def test_cdk_notification_filters_are_kept(tmp_path):
    """`addEventNotification(..., {prefix: 'uploads/'})` with writes under `thumbnails/` only:
    the S3 API's `Filter.Key.FilterRules` of CDK's custom resource keep it from looping."""
    name = "WebsiteRecursiveBadStack"
    template = json.loads((CDK / "website" / f"{name}.template.json").read_text())
    resources = template["Resources"]
    custom = next(r for r in resources.values() if r["Type"] == "Custom::S3BucketNotifications")
    (entry,) = custom["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    entry["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}
    bucket = custom["Properties"]["BucketName"]["Ref"]
    policy = resources["ThumbnailerServiceRoleDefaultPolicy9BAC8CD0"]["Properties"]
    for statement in policy["PolicyDocument"]["Statement"]:
        if "s3:PutObject" in statement["Action"]:
            keys = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/thumbnails/*"]]}
            statement["Resource"] = [{"Fn::GetAtt": [bucket, "Arn"]}, keys]
    path = tmp_path / f"{name}.template.json"
    path.write_text(json.dumps(template))
    _, found = check(path)
    assert [f["rule_id"] for f in found if f["rule_id"] != "AL901"] == []


def _catalogue() -> set[str]:
    """WEB-* and MOB-* ids of the requirement catalogue (else of the rules' requirements)."""
    rules = json.loads(run_archlint("list-rules", "--format", "json").stdout)
    if CATALOGUE.exists():
        ids = set(re.findall(r"^\| ([A-Z]+(?:-[A-Z0-9]+)+) \|", CATALOGUE.read_text(), re.M))
    else:
        ids = {r["requirement"] for r in rules}
    return {i for i in ids if i.startswith(("WEB-", "MOB-"))}


def test_every_web_and_mob_requirement_is_caught_in_sam_and_in_cdk():
    rules = json.loads(run_archlint("list-rules", "--format", "json").stdout)
    requirement = {r["code"]: r["requirement"] for r in rules}
    wanted = _catalogue()
    assert len(wanted) == 12
    for form, folder, cases in (("SAM", SAM, SAM_BAD), ("CDK", CDK, CDK_BAD)):
        caught = {requirement[f["rule_id"]] for name in cases for f in check(folder / name)[1]}
        assert sorted(wanted - caught) == [], f"{form} bad templates miss these requirements"
