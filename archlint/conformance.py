"""Architecture conformance: a declared architecture's reference graph is the spec.

Each architecture's reference template (`reference_templates/NAME.yaml`) is
loaded through the same pipeline as any template. Its *skeleton* (resources
joined by semantic edges: origins, notifications, event sources, roles and
their grants ...) falls into connected chains, e.g. IoT rule -> stream ->
delivery stream -> bucket -> queue -> function. A user template conforms
when every chain is found in its own skeleton by networkx's subgraph
monomorphism, matching resource types and edge kinds, not names. Where a
chain is not found, the connections it lacks are named, with the reference
resources that show them. Nothing here is a hand-kept list of components.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import networkx as nx
from networkx.algorithms import isomorphism

from archlint.graph import ResourceGraph
from archlint.template import Template

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
# Types that play the same part in an architecture: an HTTP API is a front
# door like a REST API, a record set group holds record sets, an alias or a
# version is its function. Matching is by class, reported by its first type.
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
)
TYPE_CLASS = {t: group[0] for group in EQUIVALENT_TYPES for t in group}
# Grants to these are housekeeping every function has, not architecture.
HOUSEKEEPING_TYPES = frozenset({"AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::KMS::Alias"})
# Above this many candidate nodes the exact chain search is skipped; the
# per-connection check still runs.
MAX_MATCH_NODES = 3_000

PHRASES = {
    "origin": "serves content from",
    "origin_identity": "reaches its origin through",
    "key_group": "requires signed URLs from",
    "public_key": "trusts",
    "cache_policy": "caches with",
    "policy_of": "is the resource policy of",
    "notifies": "sends object events to",
    "event_source": "feeds (event source mapping)",
    "on_failure": "sends failed batches to",
    "permission_for": "lets a service invoke",
    "execution_role": "runs with the role",
    "dead_letter": "sends failed messages to",
    "authorizer": "authorizes requests with",
    "user_pool": "authenticates against",
    "integration": "is served by",
    "api": "belongs to",
    "maps_to": "maps a custom domain to",
    "alias_target": "resolves to",
    "subscription": "delivers to",
    "firehose_source": "is read by the delivery stream",
    "firehose_processor": "transforms records with",
    "delivers_to": "delivers to",
    "iot_action": "sends device messages to",
    "query_results": "writes query results to",
    "targets": "registers its instances with",
    "scales": "scales",
    "listener": "is listened on by",
    "forwards_to": "forwards to",
    "service_role": "uses the role",
    "grants": "is granted access to",
    "authenticated_role": "gives signed-in users the role",
    "unauthenticated_role": "gives guests the role",
    "client_of": "is a client of",
    "namespace": "stores data in",
}


@dataclass(frozen=True)
class Gap:
    """Something of the reference that the template lacks.

    `what` is "component" (no resource of `target_type` at all, with the
    connections the reference gives it), "connection" (both kinds of
    resource exist but are not connected by `kind`) or "chain" (every
    connection exists somewhere, but not as one connected whole).
    """

    what: str
    architecture: str
    target_type: str = ""
    source_type: str = ""
    kind: str = ""
    reference: str = ""  # the reference resources that show it
    connections: tuple[str, ...] = ()

    @property
    def file(self) -> str:
        return f"reference_templates/{self.architecture}.yaml"

    def describe(self) -> str:
        if self.what == "component":
            links = "; ".join(self.connections)
            return (
                f"{self.architecture}: missing component {_shown(self.target_type)} "
                f"(in {self.file}: {self.reference}: {links})"
            )
        if self.what == "connection":
            phrase = PHRASES.get(self.kind, self.kind)
            return (
                f"{self.architecture}: no {_shown(self.source_type)} {phrase} an "
                f"{_shown(self.target_type)} (in {self.file}: {self.reference})"
            )
        return (
            f"{self.architecture}: {self.reference} exist but are not connected to each "
            f"other as in {self.file}"
        )


def _shown(type_name: str) -> str:
    """A type class as users read it: `AWS::ApiGateway::RestApi or AWS::ApiGatewayV2::Api`."""
    for group in EQUIVALENT_TYPES:
        if group[0] == type_name:
            return " or ".join(group)
    return type_name


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


def type_class(resource_type: str) -> str:
    """The type a resource counts as in an architecture (see EQUIVALENT_TYPES)."""
    return TYPE_CLASS.get(resource_type, resource_type)


def skeleton(graph: ResourceGraph) -> nx.DiGraph:
    """Resources joined by architectural edges, labelled by type and edge kind."""
    result = nx.DiGraph()
    owner = _owners(graph)
    for raw_source, raw_target, data in graph.g.edges(data=True):
        kind = data["kind"]
        if kind in PLUMBING_KINDS or kind in ("api", "rule_of"):
            continue
        source, target = owner.get(raw_source, raw_source), owner.get(raw_target, raw_target)
        if source == target:
            continue
        target_type = graph.type_of(target)
        if kind == "grants" and target_type in HOUSEKEEPING_TYPES:
            continue
        for node in (source, target):
            result.add_node(node, type=type_class(graph.type_of(node)))
        kinds = result.edges[source, target]["kinds"] if result.has_edge(source, target) else set()
        result.add_edge(source, target, kinds=kinds | {kind})
    return result


@cache
def reference(architecture: str) -> tuple[nx.DiGraph, tuple[frozenset[str], ...]]:
    """The reference skeleton of an architecture and its chains (node sets)."""
    text = resources.files("archlint.reference_templates").joinpath(f"{architecture}.yaml")
    template = Template.from_bytes(f"{architecture}.yaml", text.read_bytes())
    graph = skeleton(ResourceGraph(template))
    chains = tuple(frozenset(c) for c in nx.weakly_connected_components(graph))
    return graph, chains


def gaps(graph: ResourceGraph, architecture: str) -> list[Gap]:
    """What the template lacks of the architecture's reference, chain by chain."""
    ref_graph, chains = reference(architecture)
    ours = skeleton(graph)
    present_types = {data["type"] for _, data in ours.nodes(data=True)}
    present_triples = {
        (ours.nodes[s]["type"], kind, ours.nodes[t]["type"])
        for s, t, data in ours.edges(data=True)
        for kind in data["kinds"]
    }
    components: dict[str, tuple[list[str], list[str]]] = {}
    connections: dict[tuple[str, str, str], Gap] = {}
    chains_broken: list[Gap] = []
    for chain in chains:
        pattern = ref_graph.subgraph(chain)
        if _chain_present(ours, pattern):
            continue
        before = len(components) + len(connections)
        for source, target, data in pattern.edges(data=True):
            source_type = pattern.nodes[source]["type"]
            target_type = pattern.nodes[target]["type"]
            for kind in sorted(data["kinds"]):
                phrase = PHRASES.get(kind, kind)
                for node, node_type, link in (
                    (target, target_type, f"{source} {phrase} it"),
                    (source, source_type, f"it {phrase} {target}"),
                ):
                    if node_type not in present_types:
                        names, links = components.setdefault(node_type, ([], []))
                        if node not in names:
                            names.append(node)
                        if link not in links:
                            links.append(link)
                triple = (source_type, kind, target_type)
                if (
                    triple not in present_triples
                    and source_type in present_types
                    and target_type in present_types
                    and triple not in connections
                ):
                    connections[triple] = Gap(
                        "connection",
                        architecture,
                        target_type,
                        source_type,
                        kind,
                        f"{source} -> {target}",
                    )
        if len(components) + len(connections) == before:
            names = ", ".join(sorted(chain))
            chains_broken.append(Gap("chain", architecture, reference=names))
    missing = [
        Gap(
            "component",
            architecture,
            node_type,
            reference=", ".join(names),
            connections=tuple(links),
        )
        for node_type, (names, links) in sorted(components.items())
    ]
    return missing + list(connections.values()) + chains_broken


def _chain_present(ours: nx.DiGraph, pattern: nx.DiGraph) -> bool:
    types = {data["type"] for _, data in pattern.nodes(data=True)}
    candidates = [n for n, data in ours.nodes(data=True) if data["type"] in types]
    if len(candidates) > MAX_MATCH_NODES:
        return False
    matcher = isomorphism.DiGraphMatcher(
        ours.subgraph(candidates),
        pattern,
        node_match=lambda a, b: a["type"] == b["type"],
        edge_match=lambda a, b: b["kinds"] <= a["kinds"],
    )
    return matcher.subgraph_is_monomorphic()
