"""X-S3-ORIGIN-OAI: a bucket behind CloudFront is reachable only through CloudFront."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit

PUBLIC_ACCESS_FLAGS = (
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
)
PUBLIC_ACLS = ("PublicRead", "PublicReadWrite", "AuthenticatedRead")
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"
SOURCE_ARN_KEY = "aws:SourceArn"
ORIGINS = "DistributionConfig.Origins[*]"


@rule(
    code="AL101",
    name="s3-origin-not-cloudfront-only",
    requirement="X-S3-ORIGIN-OAI",
    severity=ERROR,
    resource_types=("AWS::S3::Bucket",),
    fix="Give the origin an Origin Access Control, block all public access on the bucket, "
    "and let the bucket policy allow s3:GetObject only to cloudfront.amazonaws.com with "
    "Condition StringEquals AWS:SourceArn set to the distribution's ARN.",
)
def s3_origin_not_cloudfront_only(bucket: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For every S3 bucket that is the origin of a CloudFront distribution in
    the template, checks that the bucket can be read only through that
    distribution: the origin uses an Origin Access Control (or legacy Origin
    Access Identity) and the bucket's REST endpoint, not its website
    endpoint; all four `PublicAccessBlockConfiguration` flags are true; no
    public canned ACL; and the bucket policy lets only that OAI, or
    `cloudfront.amazonaws.com` conditioned on that distribution's
    `AWS:SourceArn`, read objects. Policies are judged statement by
    statement and in both branches of every `Fn::If`; `NotPrincipal`
    allows are violations.

    ## Why is this bad?
    If the bucket can be read directly, the CDN's protections (signed URLs,
    geo restrictions, WAF, HTTPS) are bypassed by anyone who guesses the
    bucket name, and every direct read is billed at S3's rates.
    """
    distributions = graph.into(bucket, "origin")
    if not distributions:
        return
    yield from _origin_settings(bucket, distributions, graph)
    yield from _public_access_block(bucket, graph)
    yield from _public_acl(bucket, graph)
    for policy_resource, policy in graph.resource_policies(bucket):
        for statement in policy.allow_statements():
            problem = _statement_problem(statement, distributions, graph)
            if problem:
                yield Violation(
                    policy_resource,
                    f"bucket {bucket.logical_id} is a CloudFront origin but {statement.label} "
                    f"{problem}",
                    line=statement.line,
                )


def _origin_settings(
    bucket: Resource, distributions: list[Resource], graph: ResourceGraph
) -> Iterator[Violation]:
    resolver = graph.resolver
    for dist in distributions:
        for origin, line in graph.items_referring(dist, ORIGINS, "DomainName", bucket):
            domains = [v.text() or "" for v in resolver.values_at(origin, "DomainName")]
            if any("s3-website" in d or d.endswith(".WebsiteURL}") for d in domains) or (
                resolver.find(origin, "CustomOriginConfig")
            ):
                yield Violation(
                    dist,
                    f"origin of {dist.logical_id} uses the website endpoint of bucket "
                    f"{bucket.logical_id}, which is public by design and cannot use OAC/OAI",
                    line=line,
                    fix="Point the origin at the bucket's RegionalDomainName with S3OriginConfig "
                    "and an OriginAccessControlId.",
                )
                continue
            identities = [
                v
                for path in ("OriginAccessControlId", "S3OriginConfig.OriginAccessIdentity")
                for v in resolver.values_at(origin, path)
            ]
            if not any(v.text() for v in identities):
                yield Violation(
                    dist,
                    f"origin of {dist.logical_id} reads bucket {bucket.logical_id} without an "
                    "Origin Access Control or Origin Access Identity",
                    line=line,
                    fix="Add an AWS::CloudFront::OriginAccessControl and set the origin's "
                    "OriginAccessControlId to it.",
                )


def _public_access_block(bucket: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    props = bucket.properties
    unset = []
    for flag in PUBLIC_ACCESS_FLAGS:
        values = graph.resolver.values_at(props, f"PublicAccessBlockConfiguration.{flag}")
        if not values:
            unset.append(flag)
        for value in values:
            if not (isinstance(value, Lit) and value.value in (True, "true", "True")):
                yield Violation(
                    bucket,
                    f"bucket {bucket.logical_id} is a CloudFront origin but "
                    f"PublicAccessBlockConfiguration.{flag} can be {value.text()}",
                    line=value.line,
                    fix="Set all four PublicAccessBlockConfiguration flags to true.",
                )
    if unset:
        yield Violation(
            bucket,
            f"bucket {bucket.logical_id} is a CloudFront origin but does not block public "
            f"access: {', '.join(unset)} not set to true",
            line=bucket.line_of("PublicAccessBlockConfiguration"),
            fix="Set all four PublicAccessBlockConfiguration flags to true.",
        )


def _public_acl(bucket: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    for value in graph.resolver.values_at(bucket.properties, "AccessControl"):
        if value.text() in PUBLIC_ACLS:
            yield Violation(
                bucket,
                f"bucket {bucket.logical_id} is a CloudFront origin but has the public "
                f"canned ACL {value.text()}",
                line=value.line,
                fix="Remove AccessControl (or set it to Private).",
            )


def _statement_problem(
    statement: Statement, distributions: list[Resource], graph: ResourceGraph
) -> str | None:
    """Why an Allow statement of the bucket's policy breaks CloudFront-only access."""
    if statement.not_principal:
        return "allows everyone except the listed principals (NotPrincipal)"
    if statement.everyone:
        return 'allows Principal "*"'
    if not statement.matches_action("s3:GetObject"):
        return None
    identities = {i.key for d in distributions for i in graph.out(d, "origin_identity")}
    for principal in statement.principals or ():
        if principal.is_service(CLOUDFRONT_SERVICE):
            if not _conditioned_on_distribution(statement, distributions, graph):
                return (
                    "lets cloudfront.amazonaws.com read without an AWS:SourceArn condition "
                    "naming this distribution, so any distribution in any account can read it"
                )
        elif principal.kind in ("AWS", "CanonicalUser"):
            targets = graph.targets_of(principal.value)
            if not targets & identities:
                return f"also lets {principal.text} read objects"
        else:
            return f"also lets {principal.text} read objects"
    return None


def _conditioned_on_distribution(
    statement: Statement, distributions: list[Resource], graph: ResourceGraph
) -> bool:
    resolver = graph.resolver
    entries = statement.condition_entries(SOURCE_ARN_KEY)
    if not entries:
        return False
    for operator, raw in entries:
        if operator.startswith("StringNot") or operator.startswith("ArnNot"):
            return False
        for item, _ in resolver.items(raw):
            for value in resolver.values(item):
                if not any(graph.refers_to(value, d) for d in distributions):
                    return False
    return True
