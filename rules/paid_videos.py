"""PAY-PRIVATE-VIDEOS, PAY-SIGNED-URLS-ONLY, PAY-GLOBAL: the video distribution."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, WARNING, Violation, rule
from archlint.rules.cloudfront_https import cache_behaviors
from archlint.template import Resource
from archlint.values import Lit, Unknown, Value

PAID_CONTENT = ("paid-content",)
DISTRIBUTION = "AWS::CloudFront::Distribution"
KEY_GROUP = "AWS::CloudFront::KeyGroup"
BUCKET = "AWS::S3::Bucket"
ORIGINS = "DistributionConfig.Origins[*]"
S3_DOMAIN_MARKS = (".s3.", ".s3-", "s3.amazonaws.com")


def video_distributions(graph: ResourceGraph) -> list[Resource]:
    """The distributions that serve the videos: those that require signed URLs on some
    behavior (key groups or legacy trusted signers); every distribution if none does."""
    distributions = list(graph.resources(DISTRIBUTION))
    signed = [
        d
        for d in distributions
        if any(
            graph.resolver.find(behavior, "TrustedKeyGroups")
            or graph.resolver.find(behavior, "TrustedSigners")
            for _, behavior, _ in cache_behaviors(d, graph)
        )
    ]
    return signed or distributions


@rule(
    code="AL303",
    name="videos-not-in-private-s3-origin",
    requirement="PAY-PRIVATE-VIDEOS",
    severity=ERROR,
    architectures=PAID_CONTENT,
    fix="Keep the videos in an AWS::S3::Bucket of the template and make it the origin of the "
    "video distribution, with an Origin Access Control (X-S3-ORIGIN-OAI).",
)
def videos_not_in_private_s3_origin(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that a CloudFront distribution serves the videos and that one of
    the origins of each video distribution is an S3 bucket defined in the
    template, read through its REST endpoint with an Origin Access Control
    (or legacy Origin Access Identity), in every `Fn::If` branch of the
    origin. The video distributions are those that require signed URLs (or
    every distribution, if none does). The rest of the bucket's privacy
    (public access block, bucket policy, ACL) is checked by AL101
    (X-S3-ORIGIN-OAI). An S3 origin whose bucket is defined elsewhere cannot
    be checked and is reported as info.

    ## Why is this bad?
    Videos served from a web server or a bucket outside the stack escape
    the checks that make them private: anyone who finds the origin can
    download them without a signed URL, and nothing in the template proves
    otherwise.
    """
    distributions = video_distributions(graph)
    if not distributions:
        yield Violation(
            None,
            "no AWS::CloudFront::Distribution serves the videos",
            line=graph.template.root.line_of("Resources"),
        )
    for distribution in distributions:
        origins = graph.resolver.find(distribution.properties, ORIGINS)
        if any(_private_bucket_origin(origin, graph) for origin, _ in origins):
            continue
        if not origins:
            yield Violation(
                distribution,
                f"distribution {distribution.logical_id} has no origins, so no S3 bucket of "
                "the template holds its videos",
                line=distribution.line_of("DistributionConfig"),
            )
        for origin, line in origins:
            domains = graph.resolver.values_at(origin, "DomainName")
            for value in domains:
                yield from _not_template_bucket(distribution, value, graph)
            if domains and all(_template_buckets(v, graph) for v in domains):
                yield Violation(
                    distribution,
                    f"origin {domains[0].text()} of distribution {distribution.logical_id} "
                    "reads the video bucket without an Origin Access Control (or Identity) in "
                    "every branch, so the bucket cannot be private to CloudFront",
                    line=line,
                )


def _template_buckets(value: Value, graph: ResourceGraph) -> list[str]:
    return [k for k in graph.targets_of(value) if graph.type_of(k) == BUCKET]


def _private_bucket_origin(origin: object, graph: ResourceGraph) -> bool:
    """A REST-endpoint origin on a bucket of the template with OAC or OAI, in every branch."""
    domains = graph.resolver.values_at(origin, "DomainName")
    if not domains or not all(_template_buckets(v, graph) for v in domains):
        return False
    if any("s3-website" in (v.text() or "") or "WebsiteURL" in (v.text() or "") for v in domains):
        return False
    return not graph.may_be_absent(origin, "OriginAccessControlId") or not graph.may_be_absent(
        origin, "S3OriginConfig.OriginAccessIdentity"
    )


def _not_template_bucket(
    distribution: Resource, value: Value, graph: ResourceGraph
) -> Iterator[Violation]:
    if _template_buckets(value, graph):
        return
    text = value.text() or "?"
    origin = f" ({value.origin})" if isinstance(value, Lit) and value.origin else ""
    where = f"origin {text}{origin} of distribution {distribution.logical_id}"
    if isinstance(value, Unknown) or any(mark in text for mark in S3_DOMAIN_MARKS):
        unknown = (
            value
            if isinstance(value, Unknown)
            else Unknown("a bucket outside this template", value.line)
        )
        yield Violation(
            distribution,
            f"cannot tell whether {where} is a private S3 bucket: {unknown.reason}",
            line=value.line,
            undecided=unknown,
        )
    else:
        yield Violation(
            distribution,
            f"{where} is not an S3 bucket of the template: the videos must live in a private "
            "bucket reached only through CloudFront",
            line=value.line,
        )


@rule(
    code="AL304",
    name="video-behavior-without-signed-urls",
    requirement="PAY-SIGNED-URLS-ONLY",
    severity=ERROR,
    resource_types=(DISTRIBUTION,),
    architectures=PAID_CONTENT,
    fix="Set TrustedKeyGroups: [!Ref KeyGroup] on the default and every ordered cache behavior, "
    "with an AWS::CloudFront::KeyGroup of the template.",
)
def video_behavior_without_signed_urls(
    distribution: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    """## What it does
    Checks that the default cache behavior and every ordered cache behavior
    of the video distribution set `TrustedKeyGroups` to key groups defined
    in the template (`AWS::CloudFront::KeyGroup`), in every `Fn::If` branch.
    A behavior that relies only on legacy `TrustedSigners` (CloudFront key
    pairs of the root account) is a warning; one that requires no signature
    at all is an error. The video distribution is the one that requires
    signed URLs somewhere (or every distribution, if none does).

    ## Why is this bad?
    One behavior without a trusted key group serves its paths to anybody,
    signed URL or not: the premium check in the API is bypassed by
    requesting the video directly. Trusted signers need the root account's
    CloudFront key pair, which cannot be managed by IAM or rotated by the
    stack.
    """
    if distribution.key not in {d.key for d in video_distributions(graph)}:
        return
    for label, behavior, line in cache_behaviors(distribution, graph):
        yield from _key_groups(distribution, label, behavior, line, graph)
        if not graph.may_be_absent(behavior, "TrustedKeyGroups"):
            continue
        present = _has(behavior, "TrustedKeyGroups")
        key_line = _line(behavior, "TrustedKeyGroups", line)
        where = f"{label} of {distribution.logical_id}"
        if not present:
            groups = "no TrustedKeyGroups"
        elif behavior["TrustedKeyGroups"] in ([], None):  # type: ignore[index]
            groups = "TrustedKeyGroups is empty"
        else:
            groups = "an Fn::If branch leaves TrustedKeyGroups out"
        if not graph.may_be_absent(behavior, "TrustedSigners"):
            yield Violation(
                distribution,
                f"{where} trusts only legacy TrustedSigners (root-account CloudFront key "
                f"pairs): {groups}",
                line=key_line if present else _line(behavior, "TrustedSigners", line),
                severity=WARNING,
            )
        else:
            yield Violation(
                distribution,
                f"{where} does not require signed URLs: {groups}",
                line=key_line if present else line,
            )


def _key_groups(
    distribution: Resource, label: str, behavior: object, line: int | None, graph: ResourceGraph
) -> Iterator[Violation]:
    for value in graph.resolver.values_at(behavior, "TrustedKeyGroups[*]"):
        if isinstance(value, Unknown):
            yield Violation(
                distribution,
                f"cannot tell which key group {label} of {distribution.logical_id} trusts: "
                f"{value.reason}",
                line=value.line or line,
                undecided=value,
            )
        elif not any(graph.type_of(k) == KEY_GROUP for k in graph.targets_of(value)):
            origin = f" ({value.origin})" if isinstance(value, Lit) and value.origin else ""
            yield Violation(
                distribution,
                f"{label} of {distribution.logical_id} trusts key group {value.text()}{origin}, "
                "which is not an AWS::CloudFront::KeyGroup of this template",
                line=value.line or line,
            )


def _has(node: object, key: str) -> bool:
    return isinstance(node, dict) and key in node


def _line(node: object, key: str, default: int | None) -> int | None:
    """The line of `key` in a behavior mapping, else `default`."""
    return node.line_of(key) if _has(node, key) and hasattr(node, "line_of") else default


@rule(
    code="AL306",
    name="video-distribution-not-global",
    requirement="PAY-GLOBAL",
    severity=WARNING,
    resource_types=(DISTRIBUTION,),
    architectures=PAID_CONTENT,
    fix="Set PriceClass: PriceClass_All (or leave it out: that is the default).",
)
def video_distribution_not_global(
    distribution: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    """## What it does
    Checks that the video distribution serves from every CloudFront edge
    location: `DistributionConfig.PriceClass` is `PriceClass_All` or absent
    (the default), in every `Fn::If` branch and parameter default.

    ## Why is this bad?
    `PriceClass_100` and `PriceClass_200` leave out the edge locations of
    whole continents: viewers there are served from a distant edge, and
    video start-up time and rebuffering suffer for the paying users the
    architecture is meant to reach globally.
    """
    if distribution.key not in {d.key for d in video_distributions(graph)}:
        return
    for value in graph.resolver.values_at(distribution.properties, "DistributionConfig.PriceClass"):
        if isinstance(value, Unknown):
            yield Violation(
                distribution,
                f"cannot tell the PriceClass of {distribution.logical_id}: {value.reason}",
                line=value.line,
                undecided=value,
            )
        elif value.text() != "PriceClass_All":
            origin = f" ({value.origin})" if isinstance(value, Lit) and value.origin else ""
            yield Violation(
                distribution,
                f"distribution {distribution.logical_id} serves only part of the world: "
                f"PriceClass is {value.text()}{origin}",
                line=value.line,
            )
