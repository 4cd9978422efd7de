"""MSV-FRONT-DOOR: every service is reached through a DNS name of its own."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import origin_of
from archlint.template import Resource
from archlint.values import Lit

KINDS = {
    "AWS::ApiGateway::RestApi": "REST API",
    "AWS::ApiGatewayV2::Api": "API",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer",
}
_API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")
DOMAIN_TYPES = (
    "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::DomainNameV2",
    "AWS::ApiGatewayV2::DomainName",
)
# Where a record names what it resolves to: an alias, or CNAME/A values.
RECORD_TARGETS = ("AliasTarget.DNSName", "ResourceRecords[*]")


@rule(
    code="AL801",
    name="front-door-without-dns-record",
    requirement="MSV-FRONT-DOOR",
    severity=ERROR,
    architectures=("microservices",),
    fix="Add an AWS::Route53::RecordSet aliasing the API's custom domain (an "
    "AWS::ApiGateway::DomainName with a BasePathMapping to the API) or the load balancer's "
    "DNSName.",
)
def front_door_without_dns_record(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For every service (an API Gateway API or a load balancer with what runs
    behind it), checks that a Route 53 record (`AWS::Route53::RecordSet` or
    an entry of a `RecordSetGroup`) resolves to its front door: an alias or
    CNAME to the load balancer's DNS name, to an API Gateway custom domain
    mapped to the API (`BasePathMapping`, `ApiMapping`), or to a CloudFront
    distribution in front of it. A record that names the front door only in
    one `Fn::If` branch, or exists only under a `Condition`, does not count;
    a CNAME to an API's `execute-api` host name does not work. A record named
    after one service's custom domain must not resolve to another service's
    front door (in any branch, condition or environment).

    ## Why is this bad?
    Without a name of its own, callers hard-code the generated endpoint
    (`abc123.execute-api...`, `my-alb-123.elb.amazonaws.com`), which changes
    when the API or load balancer is replaced; the service can no longer be
    moved, versioned or failed over without changing every client.
    """
    for service in graph.services():
        door = service.front_door
        records = [
            (record, hop)
            for record, hop in graph.dns_records(door)
            if hop.key != door.key or door.type not in _API_TYPES
        ]
        if not records:
            yield Violation(
                door,
                f"{KINDS[door.type]} {door.logical_id}, the front door of a service, has no "
                f"Route 53 record that resolves to it{_hint(door, graph)}",
                line=door.line,
            )
            continue
        hops = {hop.key for _, hop in records}
        problems = {r.key: list(_partial(r, hops, door, graph)) for r, _ in records}
        if all(problems.values()):
            for found in problems.values():
                yield from found
    yield from _crossed_records(graph)


def _doors(graph: ResourceGraph, keys: set[str]) -> set[str]:
    """The front doors that named resources stand for: a custom domain, the APIs mapped to it."""
    doors = set()
    for key in keys:
        if graph.type_of(key) in KINDS:
            doors.add(key)
        elif graph.type_of(key) in DOMAIN_TYPES:
            doors |= {api.key for api in graph.out(graph.resource(key), "maps_to")}
    return doors


def _crossed_records(graph: ResourceGraph) -> Iterator[Violation]:
    """Records named after one service's front door (its custom domain) that resolve to
    another's: callers of the one reach the other."""
    resolver = graph.resolver
    for record in graph.resources("AWS::Route53::RecordSet", "AWS::Route53::RecordSetGroup"):
        entries = (
            resolver.find(record.properties, "RecordSets[*]")
            if record.type == "AWS::Route53::RecordSetGroup"
            else [(record.properties, record.line)]
        )
        for entry, _ in entries:
            named = _doors(
                graph, {k for v in resolver.values_at(entry, "Name") for k in graph.targets_of(v)}
            )
            if not named:
                continue
            for path in RECORD_TARGETS:
                for value in resolver.values_at(entry, path):
                    reached = _doors(graph, graph.targets_of(value))
                    if reached and not reached & named:
                        yield Violation(
                            record,
                            f"record {record.logical_id} is named after "
                            f"{', '.join(sorted(graph.resource(k).logical_id for k in named))} "
                            f"but {path} resolves to "
                            f"{', '.join(sorted(graph.resource(k).logical_id for k in reached))}"
                            f", another service's front door{origin_of(value)}",
                            line=value.line,
                        )


def _hint(door: Resource, graph: ResourceGraph) -> str:
    if door.type not in _API_TYPES:
        return ""
    direct = [r.logical_id for r, hop in graph.dns_records(door) if hop.key == door.key]
    if direct:
        return (
            f": {', '.join(direct)} points at its execute-api host name, which API Gateway "
            "does not serve under another name; map a custom domain"
        )
    domains = [d.logical_id for d in graph.into(door, "maps_to")]
    if domains:
        return f": custom domain {', '.join(domains)} is mapped to it but no record aliases it"
    return ": no custom domain is mapped to it"


def _partial(
    record: Resource, hops: set[str], door: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    """Why a record that names the front door does not always resolve to it."""
    if record.condition and record.condition != door.condition:
        yield Violation(
            record,
            f"record {record.logical_id} resolves to {door.logical_id} only when condition "
            f"{record.condition} holds",
            line=record.body.line_of("Condition"),
        )
    resolver = graph.resolver
    entries = (
        resolver.find(record.properties, "RecordSets[*]")
        if record.type == "AWS::Route53::RecordSetGroup"
        else [(record.properties, record.line)]
    )
    for entry, _ in entries:
        values = [(p, v) for p in RECORD_TARGETS for v in resolver.values_at(entry, p)]
        if not any(graph.targets_of(v) & hops for _, v in values):
            continue
        for path, value in values:
            if not graph.targets_of(value) & hops:
                origin = f" ({value.origin})" if isinstance(value, Lit) and value.origin else ""
                yield Violation(
                    record,
                    f"record {record.logical_id} resolves to {door.logical_id} only in some "
                    f"cases: {path} can be {value.text()}{origin}",
                    line=value.line,
                )
