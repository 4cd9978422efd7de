"""CloudFront questions shared by rules: does a cache behavior cache, which behaviors serve X.

Not a rule module (the leading underscore keeps the engine from scanning it).
Used by WEB-STATIC-VIA-CLOUDFRONT, WEB-API-CACHING and MOB-HTTPS-API.
"""

from __future__ import annotations

from archlint.graph import ResourceGraph
from archlint.rules._api import targets
from archlint.rules._common import number
from archlint.rules._common import origin_of as origin_note
from archlint.rules.cloudfront_https import cache_behaviors, with_origin_groups
from archlint.template import Resource
from archlint.values import Lit, Unknown, Value

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
LEGACY_DEFAULT_TTL = 86400  # CloudFront's DefaultTTL when ForwardedValues leaves it out
ORIGINS = "DistributionConfig.Origins[*]"


def behavior_caching(
    graph: ResourceGraph, behavior: object, line: int | None
) -> list[tuple[bool | None, int | None, str]]:
    """(caches?, line, why) for each way a cache behavior can be: None when archlint cannot tell.

    A behavior caches with a cache policy other than the managed
    CachingDisabled (a policy of the template must have `DefaultTTL` > 0), or
    with legacy `ForwardedValues` whose `DefaultTTL` (86400 when left out) is
    above 0 and that does not forward every header (`Headers: ["*"]`).
    """
    resolver = graph.resolver
    policies = resolver.values_at(behavior, "CachePolicyId")
    if policies:
        return [_policy_caching(graph, value) for value in policies]
    if not resolver.find(behavior, "ForwardedValues"):
        return [(False, line, "it sets neither CachePolicyId nor ForwardedValues")]
    out: list[tuple[bool | None, int | None, str]] = []
    for value in resolver.values_at(behavior, "DefaultTTL") or [Lit(LEGACY_DEFAULT_TTL, line)]:
        ttl = number(value)
        if ttl is None:
            out.append((None, value.line or line, f"DefaultTTL is {value.text()}"))
        else:
            out.append(
                (ttl > 0, value.line or line, f"DefaultTTL is {value.text()}{origin_note(value)}")
            )
    for value in resolver.values_at(behavior, "ForwardedValues.Headers[*]"):
        if value.text() == "*":
            out.append((False, value.line or line, "it forwards every header (Headers: '*')"))
    return out


def _policy_caching(graph: ResourceGraph, value: Value) -> tuple[bool | None, int | None, str]:
    if isinstance(value, Unknown):
        return None, value.line, f"CachePolicyId: {value.reason}"
    if value.text() == CACHING_DISABLED:
        return (
            False,
            value.line,
            f"CachePolicyId is {CACHING_DISABLED} (Managed-CachingDisabled){origin_note(value)}",
        )
    for policy in targets(graph, value, "AWS::CloudFront::CachePolicy"):
        for ttl in graph.resolver.values_at(policy.properties, "CachePolicyConfig.DefaultTTL"):
            seconds = number(ttl)
            if seconds is None or seconds <= 0:
                why = f"its cache policy {policy.logical_id} has DefaultTTL {ttl.text()}"
                return (None if seconds is None else False), value.line, why
    return True, value.line, f"CachePolicyId is {value.text()}"


def caching_cloudfront(graph: ResourceGraph, target: Resource) -> list[tuple[Resource, str]]:
    """(distribution, behavior label) of behaviors that serve `target` and cache in every branch."""
    found = []
    for distribution in graph.into(target, "origin"):
        for label, behavior, line in behaviors_serving(graph, distribution, target):
            results = behavior_caching(graph, behavior, line)
            if results and all(ok for ok, _, _ in results):
                found.append((distribution, label))
    return found


def behaviors_serving(
    graph: ResourceGraph, distribution: Resource, target: Resource
) -> list[tuple[str, object, int | None]]:
    """(label, behavior, line) of the distribution's behaviors whose origin is `target`."""
    resolver = graph.resolver
    ids = with_origin_groups(
        distribution,
        graph,
        {
            v.text()
            for origin, _ in graph.items_referring(distribution, ORIGINS, "DomainName", target)
            for v in resolver.values_at(origin, "Id")
        },
    )
    return [
        (label, behavior, line)
        for label, behavior, line in cache_behaviors(distribution, graph)
        if any(v.text() in ids for v in resolver.values_at(behavior, "TargetOriginId"))
    ]
