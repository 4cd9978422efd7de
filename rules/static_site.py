"""WEB-STATIC-VIA-CLOUDFRONT: the site's static files come from S3 through a caching CloudFront."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._cloudfront import behavior_caching, behaviors_serving
from archlint.values import Unknown


@rule(
    code="AL401",
    name="static-site-not-cached-by-cloudfront",
    requirement="WEB-STATIC-VIA-CLOUDFRONT",
    severity=ERROR,
    architectures=("serverless-website",),
    fix="Serve the site bucket through a CloudFront distribution whose behavior for it uses a "
    "caching cache policy (e.g. Managed-CachingOptimized 658327ea-f89d-4fab-a63d-7e88639e58f6).",
)
def static_site_not_cached_by_cloudfront(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the template serves its static files from an S3 bucket
    through CloudFront, and that every cache behavior (default or ordered)
    whose origin is an S3 bucket of the template caches, in every `Fn::If`
    branch: a cache policy other than the managed CachingDisabled
    `4135ea2d-6df8-44a3-9df3-4b5a84be39ad` (a cache policy of the template
    needs `DefaultTTL` above 0), or legacy `ForwardedValues` with
    `DefaultTTL` above 0 (CloudFront's one-day default when left out) that
    do not forward every header. A template where no behavior serves a
    bucket is reported as a whole. OAC/OAI and HTTPS are checked by AL101
    and AL102.

    ## Why is this bad?
    Without CloudFront, every page view is an S3 request from the reader's
    location; without caching, CloudFront forwards every request to the
    bucket. Either way the blog is slow far from its region and pays for
    every request at origin prices.
    """
    served = False
    for distribution in graph.resources("AWS::CloudFront::Distribution"):
        for bucket in graph.out(distribution, "origin"):
            if bucket.type != "AWS::S3::Bucket":
                continue
            for label, behavior, line in behaviors_serving(graph, distribution, bucket):
                served = True
                for ok, at, why in behavior_caching(graph, behavior, line):
                    if ok is False:
                        yield Violation(
                            distribution,
                            f"{label} of {distribution.logical_id} serves bucket "
                            f"{bucket.logical_id} without caching: {why}",
                            line=at,
                        )
                    elif ok is None:
                        yield Violation(
                            distribution,
                            f"cannot tell whether {label} of {distribution.logical_id} caches "
                            f"bucket {bucket.logical_id}: {why}",
                            line=at,
                            undecided=Unknown(why, at),
                        )
    if not served:
        yield Violation(
            None,
            "no CloudFront cache behavior serves the static files from an S3 bucket of the "
            "template",
            line=graph.template.root.line_of("Resources"),
        )
