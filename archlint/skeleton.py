"""The architecture of a template: resources joined by the connections that say how it works.

`skeleton(graph)` keeps the semantic edges of the resource graph (origins,
notifications, event sources, roles and their grants ...), drops plumbing
(references, subnets, policy attachment), folds an API's methods, stages and
authorizers into the API and a listener's rules into the listener, and labels
each node by its type class (an OAI and an OAC, a REST and an HTTP API, a
function and its alias count as one). Conformance matches reference patterns
against it; `archlint graph` draws it.
"""

from __future__ import annotations

import networkx as nx

from archlint.conditions import resource_conditions
from archlint.graph import ResourceGraph
from archlint.nodes import Map

# Edges that say how an architecture works, as opposed to how it is wired
# (references, networking plumbing, policy attachment mechanics).
PLUMBING_KINDS = frozenset(
    {
        "ref",
        "getatt",
        "sub",
        "depends_on",
        "in_subnet",
        "in_vpc",
        "security_group",
        "subnet_group",
        "ingress_of",
        "managed_policy",
        "attached_to",
        "instance_role",
        "launch_template",
        "rule_of",
    }
)
API_PARTS = frozenset(
    {
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Authorizer",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::ApiGatewayV2::Stage",
    }
)
# Parts that are folded into their owner, and the edge kind that names it: a
# listener rule forwards for its listener, as a method serves for its API.
PART_OF = {
    **dict.fromkeys(API_PARTS, "api"),
    "AWS::ElasticLoadBalancingV2::ListenerRule": "rule_of",
}
# Edge kinds that count as another in an architecture: a grant through a
# wildcard (`dax:GetItem` on `*`) is a grant.
KIND_ALIASES = {"grants_any": "grants"}
# Types that play the same part in an architecture, with how users call them.
# Matching is by class, named by its first type.
EQUIVALENT_TYPES: tuple[tuple[str, ...], ...] = (
    ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"),
    ("AWS::ApiGateway::DomainName", "AWS::ApiGatewayV2::DomainName"),
    (
        "AWS::ApiGateway::BasePathMapping",
        "AWS::ApiGateway::BasePathMappingV2",
        "AWS::ApiGatewayV2::ApiMapping",
    ),
    ("AWS::Route53::RecordSet", "AWS::Route53::RecordSetGroup"),
    ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version"),
    ("AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::CloudFrontOriginAccessIdentity"),
    ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"),
    ("AWS::AutoScaling::ScalingPolicy", "AWS::AutoScaling::ScheduledAction"),
)
TYPE_CLASS = {t: group[0] for group in EQUIVALENT_TYPES for t in group}
# Grants to these are housekeeping every function has, not architecture.
HOUSEKEEPING_TYPES = frozenset({"AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::KMS::Alias"})


def type_class(resource_type: str) -> str:
    """The type a resource counts as in an architecture (see EQUIVALENT_TYPES)."""
    return TYPE_CLASS.get(resource_type, resource_type)


def _owners(graph: ResourceGraph) -> dict[str, str]:
    """Parts (an API's methods, stages, authorizers, routes; a listener's rules) -> owner.

    An API written as separate Method/Authorizer resources and the same API
    written as an OpenAPI body (as SAM and many teams write it) are one
    architecture: both become the API node, with its integrations and user
    pools as the API's own edges. Likewise a listener that forwards through
    rules and one that forwards by its default action.
    """
    owner: dict[str, str] = {}
    for source, target, data in graph.g.edges(data=True):
        if PART_OF.get(graph.type_of(source)) == data["kind"]:
            owner.setdefault(source, target)
    return owner


def skeleton(graph: ResourceGraph) -> nx.DiGraph:
    """Resources joined by architectural edges, labelled by type class and edge kinds.

    Every resource is a node (a lone user pool is a component too), except
    parts folded into their owner. Nodes carry the conditions under which the
    resource exists and, in a reference, the entries it realizes.
    """
    result = nx.DiGraph()
    owner = _owners(graph)
    for key, resource in graph.template.resources.items():
        target = owner.get(key, key)
        if target not in result:
            result.add_node(target, type=type_class(graph.type_of(target)), marks=set())
        result.nodes[target]["marks"] |= set(_marks(resource.metadata))
        result.nodes[target].setdefault("connects", {}).update(_connects(resource.metadata))
        result.nodes[target].setdefault("conditions", resource_conditions(graph.resource(target)))
    for raw_source, raw_target, data in graph.g.edges(data=True):
        kind = KIND_ALIASES.get(data["kind"], data["kind"])
        if kind in PLUMBING_KINDS or kind in ("api", "rule_of"):
            continue
        source, target = owner.get(raw_source, raw_source), owner.get(raw_target, raw_target)
        if source == target or (kind == "grants" and graph.type_of(target) in HOUSEKEEPING_TYPES):
            continue
        if not result.has_edge(source, target):
            result.add_edge(source, target, kinds=set(), vias={})
        edge = result.edges[source, target]
        edge["kinds"].add(kind)
        # The resource that makes the connection (an event source mapping, a
        # bucket policy) exists under its own conditions: the edge exists if
        # any of the resources making it does.
        via = data.get("via", raw_source)
        if via in graph.g:
            edge["vias"][via] = resource_conditions(graph.resource(via))
    return result


def _connects(metadata: Map) -> dict[str, set[str]]:
    """`connects: {ENTRY: [LogicalId, ...]}`: the only connections of this resource that
    the entry needs (by default, all its connections to other resources of the entry)."""
    meta = metadata.get("archlint")
    connects = meta.get("connects") if isinstance(meta, dict) else None
    if not isinstance(connects, dict):
        return {}
    return {
        str(entry): {str(t) for t in targets}
        for entry, targets in connects.items()
        if isinstance(targets, list)
    }


def _marks(metadata: Map) -> list[str]:
    meta = metadata.get("archlint")
    marks = meta.get("realizes") if isinstance(meta, dict) else None
    if isinstance(marks, str):
        return [marks]
    return [m for m in marks if isinstance(m, str)] if isinstance(marks, list) else []
