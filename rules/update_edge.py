"""software-updates, the edge: CloudFront serves the update files from the load balancer, cached."""

from __future__ import annotations

import re
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import number, origin_of
from archlint.rules.cloudfront_https import cache_behaviors, with_origin_groups
from archlint.rules.update_fleet import LOAD_BALANCER, UPDATES, application_load_balancers
from archlint.template import Resource
from archlint.values import Lit, Ref, Unknown, Value

DISTRIBUTION = "AWS::CloudFront::Distribution"
RECORD_SET = "AWS::Route53::RecordSet"
DEFAULT_BEHAVIOR = "the default cache behavior"
CACHE_POLICY = "AWS::CloudFront::CachePolicy"
ORIGINS = "DistributionConfig.Origins[*]"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Managed cache policies that cache (TTLs above zero).
MANAGED_CACHING = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": "CachingOptimized",
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": "CachingOptimizedForUncompressedObjects",
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": "Elemental-MediaPackage",
    "2e54312d-136d-493c-8eb9-b001f22f67d2": "Amplify",
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": "UseOriginCacheControlHeaders",
    "4cc15a8a-d715-48a4-82b8-cc0b614638fe": "UseOriginCacheControlHeaders-QueryStrings",
}
KEY = "CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin"
CACHE_KEY_ALL = (
    ("CookiesConfig.CookieBehavior", "cookie"),
    ("QueryStringsConfig.QueryStringBehavior", "query string"),
)


def origins_to(lb: Resource, graph: ResourceGraph) -> Iterator[tuple[Resource, object, int | None]]:
    """(distribution, origin, line) for each origin whose DomainName can be the load balancer.

    A literal domain counts when a Route 53 alias record of that name resolves to it.
    """
    aliases = _alias_names(lb, graph)
    for dist in graph.resources(DISTRIBUTION):
        for origin, line in graph.resolver.find(dist.properties, ORIGINS):
            domains = graph.resolver.values_at(origin, "DomainName")
            if any(graph.refers_to(v, lb) or _domain(v) in aliases for v in domains):
                yield dist, origin, line


def _alias_names(lb: Resource, graph: ResourceGraph) -> set[str]:
    resolver = graph.resolver
    names: set[str] = set()
    for record in graph.into(lb, "alias_target"):
        sets = resolver.find(record.properties, "RecordSets[*]") or [(record.properties, None)]
        for item, _ in sets:
            if any(graph.refers_to(v, lb) for v in resolver.values_at(item, "AliasTarget.DNSName")):
                names.update(_domain(v) for v in resolver.values_at(item, "Name"))
    names.discard("")
    return names


def _domain(value: Value) -> str:
    return (value.text() or "").rstrip(".").lower() if isinstance(value, Lit) else ""


# -- AL703 ----------------------------------------------------------------------


@rule(
    code="AL703",
    name="load-balancer-not-behind-cloudfront",
    requirement="UPD-CLOUDFRONT-ORIGIN",
    severity=ERROR,
    resource_types=(LOAD_BALANCER,),
    architectures=UPDATES,
    fix="Add the load balancer as an origin of the distribution (DomainName: !GetAtt "
    "LoadBalancer.DNSName, CustomOriginConfig) and route a cache behavior to its Id.",
)
def load_balancer_not_behind_cloudfront(lb: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For each Application Load Balancer, checks that a CloudFront
    distribution of the template uses it as an origin: the origin's
    `DomainName` is `!GetAtt LB.DNSName` (or the name of a Route 53 alias
    record that resolves to it) in every `Fn::If` branch, and a cache
    behavior routes to that origin's `Id` (`TargetOriginId`), directly or
    through an origin group (failover) that has it as a member. `!Ref LB`
    (the load balancer's ARN) is not a domain name.

    ## Why is this bad?
    Without CloudFront in front, every download of every update hits the
    instances: no edge cache, higher CPU and bandwidth cost, and slow
    downloads far from the region. An origin no behavior routes to is the
    same as no origin.
    """
    if lb.key not in {a.key for a in application_load_balancers(graph)}:
        return
    resolver = graph.resolver
    name = lb.logical_id
    problems: list[Violation] = []
    aliases = _alias_names(lb, graph)
    for dist, origin, line in origins_to(lb, graph):
        found: list[Violation] = []
        for value in resolver.values_at(origin, "DomainName"):
            if _domain(value) in aliases:
                continue
            if not graph.refers_to(value, lb):
                found.append(
                    Violation(
                        dist,
                        f"origin of {dist.logical_id} can point at {value.text()}"
                        f"{origin_of(value)} instead of load balancer {name}",
                        line=value.line,
                    )
                )
            elif not (isinstance(value, Ref) and value.attribute == "DNSName") and not any(
                graph.type_of(k) == RECORD_SET for k in graph.targets_of(value)
            ):  # a Route 53 record that aliases the load balancer names it too
                found.append(
                    Violation(
                        dist,
                        f"origin of {dist.logical_id} gives DomainName as {value.text()}, not "
                        f"the DNS name of load balancer {name} (!GetAtt {name}.DNSName)",
                        line=value.line,
                    )
                )
        own = {v.text() for v in resolver.values_at(origin, "Id")}
        ids = with_origin_groups(dist, graph, own)
        routed = {
            v.text()
            for _, behavior, _ in cache_behaviors(dist, graph)
            for v in resolver.values_at(behavior, "TargetOriginId")
        }
        if not ids & routed:
            found.append(
                Violation(
                    dist,
                    f"origin '{', '.join(sorted(i or '?' for i in own))}' of {dist.logical_id} "
                    f"points at load balancer {name} but no cache behavior routes to it",
                    line=line,
                )
            )
        if not found:
            return
        problems.extend(found)
    yield from problems or [
        Violation(
            lb,
            f"no CloudFront distribution uses load balancer {name} as its origin",
            line=lb.line,
        )
    ]


# -- AL704 ----------------------------------------------------------------------


@rule(
    code="AL704",
    name="update-files-not-cached",
    requirement="UPD-EDGE-CACHING",
    severity=ERROR,
    resource_types=(DISTRIBUTION,),
    architectures=UPDATES,
    fix="Use a caching cache policy (managed CachingOptimized 658327ea-f89d-4fab-a63d-"
    "7e88639e58f6, or your own with DefaultTTL and MaxTTL above 0 and no cookies or query "
    "strings in the cache key) on the behaviors that route to the load balancer.",
)
def update_files_not_cached(dist: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For the cache behaviors that serve the update files from the load
    balancer (an origin that is the load balancer, or an origin group with
    it as a member, in some `Fn::If` branch): the ordered behaviors whose
    path pattern names them (`/updates/*`, `/downloads/*`, `*.msi`,
    `*.zip`, ...), or the default behavior where no ordered behavior does,
    checks that they cache; other behaviors (dynamic traffic) may disable
    caching. With a cache policy: not the managed `CachingDisabled`
    (`4135ea2d-...`); a custom `AWS::CloudFront::CachePolicy` must have
    `DefaultTTL` and `MaxTTL` above 0 and must not put every cookie
    (`CookieBehavior: all`) or every query string (`QueryStringBehavior:
    all`) in the cache key; other managed policies cache. With legacy
    `ForwardedValues`: `DefaultTTL` and `MaxTTL` above 0 (defaults 1 day and
    1 year), no `Headers: ["*"]` (disables caching), no `Cookies.Forward:
    all`, and no `QueryString: true` without `QueryStringCacheKeys` (every
    query string becomes part of the cache key; with keys listed, only
    those do). Each `Fn::If` branch and parameter default is judged; an
    unknown policy id gives an `info` finding.

    ## Why is this bad?
    The architecture exists to serve update files from the edge. A
    behavior that does not cache, or whose cache key varies with every
    cookie, header or cache-busting query string, sends every download to
    the instances: the CPU and cost savings are gone.
    """
    lb_ids = with_origin_groups(
        dist,
        graph,
        {
            value.text()
            for lb in graph.resources(LOAD_BALANCER)
            for d, origin, _ in origins_to(lb, graph)
            if d.key == dist.key
            for value in graph.resolver.values_at(origin, "Id")
        },
    )
    if not lb_ids:
        return
    for label, behavior, line in _update_behaviors(dist, lb_ids, graph):
        for reason, where, unknown in _not_caching(behavior, line, graph):
            yield Violation(
                dist,
                f"{label} of {dist.logical_id} routes to the load balancer but does not cache: "
                f"{reason}"
                if unknown is None
                else f"cannot tell whether {label} of {dist.logical_id} caches: {reason}",
                line=where,
                undecided=unknown,
            )


# Path patterns that name update files: a folder (`/updates/*`, `/downloads/*`)
# or a package extension (`*.msi`, `/releases/*.tar.gz`).
UPDATE_PATHS = re.compile(
    r"update|download|release|patch|firmware|artifact|installer|package|/dist/|/files/|"
    r"\.(zip|msi|msix|exe|dmg|pkg|deb|rpm|apk|ipa|appx|tar|gz|tgz|bz2|xz|7z|bin|img|iso|"
    r"jar|whl|nupkg|delta|patch)\b",
    re.I,
)


def _update_behaviors(
    dist: Resource, lb_ids: set[str | None], graph: ResourceGraph
) -> list[tuple[str, object, int | None]]:
    """The behaviors that serve the update files from the load balancer (UPD-EDGE-CACHING).

    Those are the ordered behaviors whose path pattern names them; the default
    behavior only where no ordered behavior does. Other behaviors (dynamic
    traffic) may disable caching.
    """
    resolver = graph.resolver
    to_lb = [
        (label, behavior, line)
        for label, behavior, line in cache_behaviors(dist, graph)
        if {v.text() for v in resolver.values_at(behavior, "TargetOriginId")} & lb_ids
    ]
    named = [
        (label, behavior, line)
        for label, behavior, line in to_lb
        if any(
            UPDATE_PATHS.search(v.text() or "") for v in resolver.values_at(behavior, "PathPattern")
        )
    ]
    return named or [b for b in to_lb if b[0] == DEFAULT_BEHAVIOR]


def _not_caching(
    behavior: object, line: int | None, graph: ResourceGraph
) -> Iterator[tuple[str, int | None, Unknown | None]]:
    """(reason, line, None) for each way the behavior fails to cache; (reason, line, the
    Unknown) where archlint cannot tell."""
    resolver = graph.resolver
    policies = resolver.values_at(behavior, "CachePolicyId")
    for value in policies:
        where = value.line or line
        policy = [
            graph.resource(k) for k in graph.targets_of(value) if graph.type_of(k) == CACHE_POLICY
        ]
        if value.text() == CACHING_DISABLED:
            reason = f"CachePolicyId is the managed CachingDisabled policy{origin_of(value)}"
            yield reason, where, None
        elif policy:
            reasons = list(_policy_problems(policy[0], graph))
            if reasons:
                yield f"cache policy {policy[0].logical_id} {', '.join(reasons)}", where, None
        elif isinstance(value, Unknown) or value.text() not in MANAGED_CACHING:
            unknown = (
                value
                if isinstance(value, Unknown)
                else Unknown(f"unknown policy {value.text()}", where)
            )
            yield unknown.reason, where, unknown
    if policies:
        return
    if not resolver.find(behavior, "ForwardedValues"):
        yield "it sets neither CachePolicyId nor ForwardedValues", line, None
        return
    yield from ((r, ln or line, None) for r, ln in _legacy_problems(behavior, graph))


def _policy_problems(policy: Resource, graph: ResourceGraph) -> Iterator[str]:
    resolver = graph.resolver
    for ttl in ("DefaultTTL", "MaxTTL"):
        for value in resolver.values_at(policy.properties, f"CachePolicyConfig.{ttl}"):
            if number(value) == 0:
                yield f"has {ttl} {value.text()}{origin_of(value)}"
    for path, what in CACHE_KEY_ALL:
        for value in resolver.values_at(policy.properties, f"{KEY}.{path}"):
            if value.text() == "all":
                yield f"puts every {what} in the cache key"


def _legacy_problems(behavior: object, graph: ResourceGraph) -> Iterator[tuple[str, int | None]]:
    resolver = graph.resolver
    for ttl in ("DefaultTTL", "MaxTTL"):
        for value in resolver.values_at(behavior, ttl):
            if number(value) == 0:
                yield f"{ttl} is {value.text()}{origin_of(value)}", value.line
    for value in resolver.values_at(behavior, "ForwardedValues.Headers[*]"):
        if value.text() == "*":
            yield 'ForwardedValues forwards every header (Headers: ["*"])', value.line
    for value in resolver.values_at(behavior, "ForwardedValues.Cookies.Forward"):
        if value.text() == "all":
            yield "ForwardedValues forwards every cookie (Cookies.Forward: all)", value.line
    keys = resolver.values_at(behavior, "ForwardedValues.QueryStringCacheKeys[*]")
    for value in resolver.values_at(behavior, "ForwardedValues.QueryString"):
        if isinstance(value, Lit) and value.value in (True, "true", "True") and not keys:
            yield (
                "ForwardedValues puts every query string in the cache key (QueryString: true "
                "without QueryStringCacheKeys)",
                value.line,
            )
