"""WEB-API-CACHING, MOB-API-CACHING: API Gateway answers repeated reads from a cache."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._api import HTTP_API, REST_API, get_methods, stage_caching_problems
from archlint.rules._cloudfront import caching_cloudfront
from archlint.template import Resource

STAGE_CACHING_FIX = (
    "On the API's stage set CacheClusterEnabled: true and a MethodSettings entry with "
    'ResourcePath: "/*", HttpMethod: GET, CachingEnabled: true.'
)


@rule(
    code="AL404",
    name="api-reads-not-cached",
    requirement="WEB-API-CACHING",
    severity=ERROR,
    resource_types=(REST_API, HTTP_API),
    architectures=("serverless-website",),
    fix=STAGE_CACHING_FIX + " Or put the API behind a caching CloudFront behavior.",
)
def api_reads_not_cached(api: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For an API Gateway API with GET methods, checks that reads are cached:
    either a CloudFront behavior whose origin is the API caches (a cache
    policy other than CachingDisabled, or legacy TTLs above 0), or every
    stage of the REST API sets `CacheClusterEnabled: true` and the
    `MethodSettings` entry that governs each GET method (its own
    `ResourcePath`, else `/*`; `HttpMethod` GET, else `*`) sets
    `CachingEnabled: true`, in every `Fn::If` branch. An HTTP API has no
    stage cache, so it needs the CloudFront behavior.

    ## Why is this bad?
    Every uncached read of a popular post runs the function and reads the
    table again: higher latency for readers, and a bill that grows with
    traffic instead of with content.
    """
    if not _serves_reads(api, graph) or caching_cloudfront(graph, api):
        return
    yield from _uncached(api, graph, behind_cloudfront=True)


@rule(
    code="AL506",
    name="api-get-not-cached",
    requirement="MOB-API-CACHING",
    severity=ERROR,
    resource_types=(REST_API, HTTP_API),
    architectures=("mobile-app",),
    fix=STAGE_CACHING_FIX,
)
def api_get_not_cached(api: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For an API Gateway API with GET methods, checks that every stage of the
    REST API sets `CacheClusterEnabled: true` and that the `MethodSettings`
    entry that governs each GET method (its own `ResourcePath`, else `/*`;
    `HttpMethod` GET, else `*`) sets `CachingEnabled: true`, in every
    `Fn::If` branch. An HTTP API (ApiGatewayV2) has no stage cache and is
    reported.

    ## Why is this bad?
    Mobile clients refresh the same lists again and again; without the
    stage cache each refresh runs the function and reads the table, adding
    latency on slow networks and cost on every app start.
    """
    if _serves_reads(api, graph):
        yield from _uncached(api, graph, behind_cloudfront=False)


def _uncached(api: Resource, graph: ResourceGraph, behind_cloudfront: bool) -> Iterator[Violation]:
    if api.type == HTTP_API:
        alternative = (
            " and no caching CloudFront behavior in front of it" if behind_cloudfront else ""
        )
        yield Violation(
            api,
            f"HTTP API {api.logical_id} serves GET routes but HTTP APIs have no stage cache"
            f"{alternative}",
            fix="Use a REST API (AWS::ApiGateway::RestApi) with stage caching"
            + (", or a caching CloudFront behavior." if behind_cloudfront else "."),
        )
        return
    for problem in stage_caching_problems(graph, api):
        yield Violation(
            problem.resource,
            f"GET responses of API {api.logical_id} are not cached: {problem.reason}"
            if problem.decided
            else f"cannot tell whether API {api.logical_id} caches GET responses: {problem.reason}",
            line=problem.line,
            undecided=problem.undecided,
        )


def _serves_reads(api: Resource, graph: ResourceGraph) -> bool:
    """A REST API (its GETs are checked method by method) or an HTTP API with a GET route.

    An HTTP API's routes are `Route` resources, its quick-create `RouteKey` (`$default`
    when `Target` is set without one), or the
    `get`/`x-amazon-apigateway-any-method` operations of its OpenAPI `Body` (SAM's HttpApi).
    """
    if api.type == REST_API:
        return True
    protocols = [v.text() for v in graph.resolver.values_at(api.properties, "ProtocolType")]
    if "WEBSOCKET" in protocols:
        return False
    keys = [v.text() or "" for v in graph.resolver.values_at(api.properties, "RouteKey")]
    if not keys and graph.resolver.find(api.properties, "Target"):
        keys = ["$default"]  # quick create: Target without RouteKey makes the $default route
    for route in graph.into(api, "api"):
        if route.type == "AWS::ApiGatewayV2::Route":
            keys += [v.text() or "" for v in graph.resolver.values_at(route.properties, "RouteKey")]
    if any(k == "$default" or k.split(" ")[0].upper() in ("GET", "ANY") for k in keys):
        return True
    return any(verb == "GET" for _, verb in get_methods(graph, api))
