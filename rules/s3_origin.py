"""X-S3-ORIGIN-OAI: a bucket behind CloudFront is reachable only through CloudFront."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Principal, Statement
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import origin_of
from archlint.template import Resource
from archlint.values import Lit, Unknown

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
IDENTITY_PATHS = ("OriginAccessControlId", "S3OriginConfig.OriginAccessIdentity")
OAI_USER_ARN = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "


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
    endpoint; no `PublicAccessBlockConfiguration` flag can be false (an
    omitted configuration is the AWS default, all on; a flag left out of a
    written configuration is off); no
    public canned ACL; and the bucket policy lets only that OAI, or
    `cloudfront.amazonaws.com` conditioned on that distribution's
    `AWS:SourceArn`, read objects. Policies are judged statement by
    statement and in both branches of every `Fn::If`; `NotPrincipal`
    allows are violations, and so is a grant of any action to
    `cloudfront.amazonaws.com` whose `AWS:SourceArn` is not exactly this
    distribution (`distribution/*` matches every distribution). An origin
    whose OAC/OAI is empty in one `Fn::If` branch has none. A bucket is an
    origin whether the distribution names it by `!GetAtt` or by its
    literal endpoint (`mybucket.s3.amazonaws.com`, regional, website).

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
            # Each of the two settings may be set in one Fn::If branch only
            # (`!If [Prod, !GetAtt Oac.Id, ""]`): some branch must have neither.
            if all(_may_lack(origin, path, graph) for path in IDENTITY_PATHS):
                yield Violation(
                    dist,
                    f"origin of {dist.logical_id} reads bucket {bucket.logical_id} without an "
                    "Origin Access Control or Origin Access Identity",
                    line=line,
                    fix="Add an AWS::CloudFront::OriginAccessControl and set the origin's "
                    "OriginAccessControlId to it.",
                )
                continue
            unknown = [
                v
                for path in IDENTITY_PATHS
                for v in resolver.values_at(origin, path)
                if isinstance(v, Unknown)
            ]
            if unknown:
                yield Violation(
                    dist,
                    f"cannot tell whether the origin of {dist.logical_id} for bucket "
                    f"{bucket.logical_id} uses an Origin Access Control or Identity: "
                    f"{unknown[0].reason}",
                    line=unknown[0].line or line,
                    undecided=unknown[0],
                )


def _may_lack(origin: object, path: str, graph: ResourceGraph) -> bool:
    """Whether some branch leaves an origin's identity setting out, empty or blank."""
    values = graph.resolver.values_at(origin, path)
    return graph.may_be_absent(origin, path) or not values or any(not v.text() for v in values)


def _public_access_block(bucket: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """Any flag that can be false, in some branch or parameter value.

    An omitted `PublicAccessBlockConfiguration` is the AWS default for new
    buckets (all four on, since April 2023); a configuration that is written
    sets every flag it leaves out to false (S3's PutPublicAccessBlock).
    """
    props = bucket.properties
    configurations = graph.resolver.find(props, "PublicAccessBlockConfiguration")
    unset = [
        flag
        for flag in PUBLIC_ACCESS_FLAGS
        if configurations
        and not graph.resolver.values_at(props, f"PublicAccessBlockConfiguration.{flag}")
    ]
    if unset:
        yield Violation(
            bucket,
            f"bucket {bucket.logical_id} is a CloudFront origin but its "
            f"PublicAccessBlockConfiguration leaves {', '.join(unset)} out, which turns it off",
            line=bucket.line_of("PublicAccessBlockConfiguration"),
            fix="Set all four PublicAccessBlockConfiguration flags to true (or leave the "
            "configuration out: that is the AWS default).",
        )
    for flag in PUBLIC_ACCESS_FLAGS:
        for value in graph.resolver.values_at(props, f"PublicAccessBlockConfiguration.{flag}"):
            if isinstance(value, Lit) and value.value in (True, "true", "True"):
                continue
            yield Violation(
                bucket,
                f"bucket {bucket.logical_id} is a CloudFront origin but "
                f"PublicAccessBlockConfiguration.{flag} can be {value.text()}{origin_of(value)}",
                line=value.line,
                fix="Set all four PublicAccessBlockConfiguration flags to true (or leave the "
                "configuration out: that is the AWS default).",
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
    reads = statement.matches_action("s3:GetObject")
    identities = {i.key for d in distributions for i in graph.out(d, "origin_identity")}
    for principal in statement.principals or ():
        if principal.is_service(CLOUDFRONT_SERVICE):
            # Whatever the action (an OAC also signs PUT and DELETE), the service
            # principal without the distribution's ARN is every distribution.
            if not _conditioned_on_distribution(statement, distributions, graph):
                actions = "read" if reads else "use " + ", ".join(statement.actions or ("?",))
                return (
                    f"lets cloudfront.amazonaws.com {actions} without an AWS:SourceArn "
                    "condition naming this distribution, so any distribution in any account "
                    "can do so"
                )
        elif not reads:
            continue
        elif principal.kind in ("AWS", "CanonicalUser"):
            targets = graph.targets_of(principal.value)
            if not targets & identities and not _names_literal_oai(principal, distributions, graph):
                return f"also lets {principal.text} read objects"
        else:
            return f"also lets {principal.text} read objects"
    return None


def _names_literal_oai(
    principal: Principal, distributions: list[Resource], graph: ResourceGraph
) -> bool:
    """Whether a principal is `...:user/CloudFront Origin Access Identity E123` for an OAI
    that one of the distributions names by its literal id (one made outside the template)."""
    text = principal.value.text() or ""
    if principal.kind != "AWS" or not text.startswith(OAI_USER_ARN) or "${" in text:
        return False
    resolver = graph.resolver
    ids = {
        (v.text() or "").rsplit("/", 1)[-1]
        for d in distributions
        for v in resolver.values_at(d.properties, f"{ORIGINS}.{IDENTITY_PATHS[1]}")
    }
    return text.removeprefix(OAI_USER_ARN) in ids - {""}


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
