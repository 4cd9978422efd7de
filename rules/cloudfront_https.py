"""X-CLOUDFRONT-HTTPS: viewers reach every CloudFront behavior over HTTPS only."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Unknown

HTTPS_POLICIES = ("redirect-to-https", "https-only")


def cache_behaviors(
    distribution: Resource, graph: ResourceGraph
) -> list[tuple[str, object, int | None]]:
    """(label, behavior node, line) for the default and every ordered behavior."""
    resolver = graph.resolver
    props = distribution.properties
    found = [
        ("the default cache behavior", node, line)
        for node, line in resolver.find(props, "DistributionConfig.DefaultCacheBehavior")
    ]
    for node, line in resolver.find(props, "DistributionConfig.CacheBehaviors[*]"):
        patterns = [v.text() for v in resolver.values_at(node, "PathPattern")]
        found.append((f"cache behavior '{patterns[0] if patterns else '?'}'", node, line))
    return found


def with_origin_groups(distribution: Resource, graph: ResourceGraph, ids: set[str]) -> set[str]:
    """`ids` plus the Id of every origin group (failover) that has one of them as a member.

    A cache behavior whose `TargetOriginId` is an origin group serves its members.
    """
    resolver = graph.resolver
    found = set(ids)
    groups = resolver.find(distribution.properties, "DistributionConfig.OriginGroups.Items[*]")
    for group, _ in groups:
        members = {v.text() for v in resolver.values_at(group, "Members.Items[*].OriginId")}
        if members & ids:
            found.update(v.text() for v in resolver.values_at(group, "Id"))
    return found


@rule(
    code="AL102",
    name="cloudfront-allows-http",
    requirement="X-CLOUDFRONT-HTTPS",
    severity=ERROR,
    resource_types=("AWS::CloudFront::Distribution",),
    fix="Set ViewerProtocolPolicy: redirect-to-https (or https-only) on every cache behavior.",
)
def cloudfront_allows_http(distribution: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the default cache behavior and every ordered cache behavior
    of a CloudFront distribution set `ViewerProtocolPolicy` to
    `redirect-to-https` or `https-only`, in every `Fn::If` branch.

    ## Why is this bad?
    With `allow-all`, viewers can fetch content over plain HTTP: cookies,
    signed URLs and the content itself travel in clear text and can be
    altered on the way. One behavior left at `allow-all` is enough.
    """
    for label, behavior, line in cache_behaviors(distribution, graph):
        values = graph.resolver.values_at(behavior, "ViewerProtocolPolicy")
        if not values:
            yield Violation(
                distribution,
                f"{label} of {distribution.logical_id} sets no ViewerProtocolPolicy",
                line=line,
            )
        for value in values:
            if isinstance(value, Unknown):
                yield Violation(
                    distribution,
                    f"cannot tell the ViewerProtocolPolicy of {label} of "
                    f"{distribution.logical_id}: {value.reason}",
                    line=value.line or line,
                    undecided=value,
                )
            elif not isinstance(value, Lit) or value.text() not in HTTPS_POLICIES:
                origin = f" ({value.origin})" if isinstance(value, Lit) and value.origin else ""
                yield Violation(
                    distribution,
                    f"{label} of {distribution.logical_id} allows plain HTTP: "
                    f"ViewerProtocolPolicy is {value.text()}{origin}",
                    line=value.line or line,
                )
