"""Architecture conformance, entry by entry, from the parts of the reference that realize it.

Each architecture's reference template (`reference_templates/NAME.yaml`) is a
worked example of its catalogue entries, not a list of everything a user must
copy. Its resources say which entries they realize
(`Metadata: {archlint: {realizes: [ING-SQS-TO-LAMBDA]}}`), and its template
metadata gives each entry's words. An entry's *pattern* is the marked
resources with the architectural connections between them (origins,
notifications, event sources, roles and their grants ...), matched against
the user's graph by networkx subgraph monomorphism on resource types and
connection kinds, never names. Where an entry allows other ways, each is an
alternative pattern: a mark `ENTRY/label` belongs to that alternative only,
and `ALTERNATIVES` below adds ways the reference does not show (QuickSight
instead of Redshift Serverless). Types that play the same part count as one
(OAI or OAC, REST or HTTP API, a function or its alias).

A reference component that no entry marks is never required. A required
component that exists only under a `Condition` is missing in the
deployments where the condition is false: an error where the parameters'
defaults leave it out, a warning where only other allowed values do.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

import networkx as nx
from networkx.algorithms import isomorphism

from archlint.conditions import Scenario, Scenarios, resource_conditions
from archlint.graph import ResourceGraph
from archlint.nodes import Map
from archlint.template import Template

ERROR, WARNING = "error", "warning"
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
# Above this many candidate nodes the exact search is skipped (reported as info).
MAX_MATCH_NODES = 3_000

# Ways to meet an entry that its reference template does not show, as chains
# `TYPE -kind-> TYPE ...` (each an alternative to the marked pattern).
ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "ING-WAREHOUSE": ("AWS::QuickSight::DataSource", "AWS::QuickSight::Dashboard"),
    "MSV-FRONT-DOOR": (
        "AWS::Route53::RecordSet -alias_target-> AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::Route53::RecordSet -alias_target-> AWS::CloudFront::Distribution "
        "-origin-> AWS::ApiGateway::RestApi",
    ),
}

NOUNS = {
    "AWS::ApiGateway::RestApi": "API Gateway API",
    "AWS::ApiGateway::DomainName": "API Gateway custom domain",
    "AWS::Route53::RecordSet": "Route 53 record",
    "AWS::Lambda::Function": "Lambda function",
    "AWS::CloudFront::OriginAccessControl": "origin access control or identity",
    "AWS::CloudFront::Distribution": "CloudFront distribution",
    "AWS::CloudFront::KeyGroup": "CloudFront key group",
    "AWS::DynamoDB::Table": "DynamoDB table",
    "AWS::AutoScaling::ScalingPolicy": "scaling policy or scheduled action",
    "AWS::AutoScaling::AutoScalingGroup": "Auto Scaling group",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer",
    "AWS::ElasticLoadBalancingV2::Listener": "listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "target group",
    "AWS::IAM::Role": "IAM role",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::SQS::Queue": "SQS queue",
    "AWS::SQS::QueuePolicy": "SQS queue policy",
    "AWS::SNS::Topic": "SNS topic",
    "AWS::Kinesis::Stream": "Kinesis data stream",
    "AWS::KinesisFirehose::DeliveryStream": "Firehose delivery stream",
    "AWS::IoT::TopicRule": "IoT topic rule",
    "AWS::Athena::WorkGroup": "Athena workgroup",
    "AWS::RedshiftServerless::Workgroup": "Redshift Serverless workgroup",
    "AWS::RedshiftServerless::Namespace": "Redshift Serverless namespace",
    "AWS::QuickSight::DataSource": "QuickSight data source",
    "AWS::QuickSight::Dashboard": "QuickSight dashboard",
    "AWS::Cognito::UserPool": "Cognito user pool",
    "AWS::Cognito::IdentityPool": "Cognito identity pool",
    "AWS::DAX::Cluster": "DAX cluster",
}
# How a connection reads: "<source> VERB <target>".
VERBS = {
    "origin": "serves content from",
    "origin_identity": "reaches its origin through",
    "key_group": "requires URLs signed by",
    "public_key": "trusts",
    "cache_policy": "caches with",
    "policy_of": "is the resource policy of",
    "notifies": "sends object events to",
    "event_source": "feeds (through an event source mapping)",
    "on_failure": "sends failed batches to",
    "permission_for": "lets a service invoke",
    "execution_role": "runs as",
    "dead_letter": "sends failed messages to",
    "authorizer": "authorizes requests with",
    "user_pool": "authenticates callers against",
    "integration": "is served by",
    "maps_to": "is mapped to",
    "alias_target": "resolves to",
    "subscription": "delivers to",
    "firehose_source": "is read by",
    "firehose_processor": "transforms records with",
    "delivers_to": "delivers to",
    "iot_action": "sends device data to",
    "query_results": "writes query results to",
    "targets": "registers its instances with",
    "scales": "scales",
    "listener": "is listened on by",
    "forwards_to": "forwards to",
    "service_role": "assumes",
    "grants": "is granted access to",
    "authenticated_role": "gives signed-in users",
    "unauthenticated_role": "gives guests",
    "client_of": "is a client of",
    "namespace": "stores data in",
}


@dataclass(frozen=True)
class Pattern:
    """One way to meet an entry: typed nodes and the connections between them."""

    graph: nx.DiGraph  # nodes: type (class); edges: kinds (set)
    shown: str  # how the alternative reads ("the reference's ...", or its chain)


@dataclass(frozen=True)
class Entry:
    id: str
    architecture: str
    words: str
    alternatives: tuple[Pattern, ...]


@dataclass(frozen=True)
class Gap:
    """An entry the template does not meet, in one deployment or all.

    `resource` is the graph key of the user's resource to fix (None: the
    template as a whole); `missing_type`/`kind` say what the picture of the
    graph draws as missing next to it.
    """

    entry: str
    architecture: str
    severity: str
    message: str
    resource: str | None = None
    missing_type: str = ""
    kind: str = ""


def type_class(resource_type: str) -> str:
    """The type a resource counts as in an architecture (see EQUIVALENT_TYPES)."""
    return TYPE_CLASS.get(resource_type, resource_type)


def noun(type_name: str) -> str:
    if type_name in NOUNS:
        return NOUNS[type_name]
    parts = type_name.split("::")
    return " ".join(parts[1:]) if len(parts) == 3 else type_name


def _article(text: str) -> str:
    return ("an " if text[:1].lower() in "aeiou" else "a ") + text


# -- skeletons -------------------------------------------------------------------------


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


# -- the reference: entries and their patterns --------------------------------------------


@cache
def entries(architecture: str) -> tuple[Entry, ...]:
    """The catalogue entries of an architecture that its reference marks, with their patterns."""
    text = resources.files("archlint.reference_templates").joinpath(f"{architecture}.yaml")
    template = Template.from_bytes(f"{architecture}.yaml", text.read_bytes())
    ours = skeleton(ResourceGraph(template))
    meta = template.archlint_metadata().get("entries")
    words = {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}
    marked: dict[str, dict[str | None, set[str]]] = {}
    for node, data in ours.nodes(data=True):
        for mark in data["marks"]:
            entry, _, label = mark.partition("/")
            marked.setdefault(entry, {}).setdefault(label or None, set()).add(node)
    found = []
    for entry, groups in sorted(marked.items()):
        common = groups.get(None, set())
        labelled = [nodes | common for label, nodes in sorted(groups.items(), key=str) if label]
        patterns = [_pattern(ours, nodes, entry) for nodes in labelled or [common]]
        patterns += [_chain(spec) for spec in ALTERNATIVES.get(entry, ())]
        found.append(Entry(entry, architecture, words.get(entry, entry), tuple(patterns)))
    return tuple(found)


def _pattern(ours: nx.DiGraph, nodes: set[str], entry: str) -> Pattern:
    pattern = nx.DiGraph()
    for node in nodes:
        pattern.add_node(node, type=ours.nodes[node]["type"])
    for source, target, data in ours.subgraph(nodes).edges(data=True):
        only = ours.nodes[source]["connects"].get(entry)
        if only is None or target in only:
            pattern.add_edge(source, target, kinds=set(data["kinds"]))
    return Pattern(pattern, f"as in the reference ({', '.join(sorted(nodes))})")


_CHAIN_STEP = re.compile(r"\s*-(\w+)->\s*")


def _chain(spec: str) -> Pattern:
    """`A -kind-> B -kind-> C` as a pattern."""
    parts = _CHAIN_STEP.split(spec.strip())
    pattern = nx.DiGraph()
    types = parts[0::2]
    for index, resource_type in enumerate(types):
        pattern.add_node(f"n{index}", type=type_class(resource_type))
    for index, kind in enumerate(parts[1::2]):
        pattern.add_edge(f"n{index}", f"n{index + 1}", kinds={kind})
    shown = " -> ".join(noun(type_class(t)) for t in types)
    return Pattern(pattern, shown)


# -- matching ----------------------------------------------------------------------------


def _matches(ours: nx.DiGraph, pattern: nx.DiGraph) -> Iterator[dict[str, str]]:
    """Each way the pattern is found in our skeleton, as {pattern node: our node}."""
    types = {data["type"] for _, data in pattern.nodes(data=True)}
    candidates = [n for n, data in ours.nodes(data=True) if data["type"] in types]
    if len(candidates) > MAX_MATCH_NODES:
        return
    matcher = isomorphism.DiGraphMatcher(
        ours.subgraph(candidates),
        pattern,
        node_match=lambda a, b: a["type"] == b["type"],
        edge_match=lambda a, b: b["kinds"] <= a["kinds"],
    )
    for mapping in matcher.subgraph_monomorphisms_iter():
        yield {p: o for o, p in mapping.items()}


def _present(ours: nx.DiGraph, pattern: nx.DiGraph) -> dict[str, str] | None:
    return next(_matches(ours, pattern), None)


def _best_partial(ours: nx.DiGraph, pattern: nx.DiGraph) -> dict[str, str]:
    """The largest connected part of the pattern that the template has, mapped.

    A part of one resource says little (every template has some Lambda
    function): a gap is pinned to the user's resources only where at least
    one of the entry's connections is there.
    """
    nodes = sorted(pattern.nodes)
    for size in range(len(nodes) - 1, 1, -1):
        for subset in itertools.combinations(nodes, size):
            part = pattern.subgraph(subset)
            if size > 1 and not nx.is_weakly_connected(part):
                continue
            found = _present(ours, part)
            if found is not None:
                return found
    return {}


def gaps(graph: ResourceGraph, architecture: str) -> list[Gap]:
    """The entries of the architecture that the template does not meet, and why."""
    ours = skeleton(graph)
    always = _view(ours, lambda conditions: not conditions)
    scenarios: Scenarios | None = None
    out: list[Gap] = []
    # Which of the user's resources play the reference's parts, from the entries
    # met: "that queue" of ING-SQS-TO-LAMBDA is the queue of ING-S3-TO-SQS.
    known: dict[str, str] = {}
    missing: list[Entry] = []
    for entry in entries(architecture):
        matches = [_present(ours, p.graph) for p in entry.alternatives]
        for match in matches:
            for part, node in (match or {}).items():
                known.setdefault(part, node)
        if not any(match is not None for match in matches):
            missing.append(entry)
            continue
        if any(_present(always, p.graph) is not None for p in entry.alternatives):
            continue  # met by resources that exist in every deployment
        scenarios = scenarios or Scenarios(graph.template)
        gap = _conditional(graph, ours, entry, scenarios)
        if gap is not None:
            out.append(gap)
    out.extend(_missing(graph, ours, entry, known) for entry in missing)
    return out


def _view(ours: nx.DiGraph, exists: Callable[[tuple[str, ...]], bool]) -> nx.DiGraph:
    """The skeleton of one deployment: the nodes and edges whose conditions `exists` accepts."""
    return nx.subgraph_view(
        ours,
        filter_node=lambda n: exists(ours.nodes[n]["conditions"]),
        filter_edge=lambda s, t: any(exists(c) for c in ours.edges[s, t]["vias"].values()),
    )


def _missing(graph: ResourceGraph, ours: nx.DiGraph, entry: Entry, known: dict[str, str]) -> Gap:
    """What is missing of the alternative the template comes closest to, said concretely."""
    best, mapping = entry.alternatives[0], {}
    score = -1.0
    for pattern in entry.alternatives:
        partial = _best_partial(ours, pattern.graph) or {
            part: known[part] for part in pattern.graph if part in known
        }
        share = len(partial) / max(1, len(pattern.graph))
        if share > score:
            best, mapping, score = pattern, partial, share
    detail, resource, missing_type, kind = _describe(graph, ours, best.graph, mapping)
    others = [p.shown for p in entry.alternatives if p is not best and not p.shown.startswith("as")]
    alternative = f" (or: {'; '.join(others)})" if others else ""
    return Gap(
        entry.id,
        entry.architecture,
        ERROR,
        f"{detail}{alternative}; {entry.id}: {entry.words}",
        resource,
        missing_type,
        kind,
    )


def _describe(
    graph: ResourceGraph, ours: nx.DiGraph, pattern: nx.DiGraph, mapping: dict[str, str]
) -> tuple[str, str | None, str, str]:
    """(what is missing, resource to fix, missing type, connection kind)."""

    def graph_has_edge(source: str, target: str, kinds: set[str]) -> bool:
        return ours.has_edge(source, target) and kinds <= ours.edges[source, target]["kinds"]

    def name(node: str) -> str:
        return graph.resource(mapping[node]).logical_id

    # From where the chain starts (an API, a topic rule) to where it ends.
    nodes = nx.topological_sort(pattern) if nx.is_directed_acyclic_graph(pattern) else pattern
    rank = {node: index for index, node in enumerate(nodes)}
    edges = sorted(pattern.edges(data=True), key=lambda e: (rank[e[0]], rank[e[1]], e[0], e[1]))
    for source, target, data in edges:
        if source in mapping and target in mapping:
            if graph_has_edge(mapping[source], mapping[target], data["kinds"]):
                continue
            kind = sorted(data["kinds"])[0]
            target_noun = noun(pattern.nodes[target]["type"])
            return (
                f"{name(source)} {VERBS.get(kind, kind)} no {target_noun} (such as {name(target)})",
                mapping[source],
                target_noun,
                kind,
            )
        kind = sorted(data["kinds"])[0]
        verb = VERBS.get(kind, kind)
        source_noun, target_noun = (
            noun(pattern.nodes[source]["type"]),
            noun(pattern.nodes[target]["type"]),
        )
        if source in mapping:
            return f"{name(source)} {verb} no {target_noun}", mapping[source], target_noun, kind
        if target in mapping:
            return f"no {source_noun} {verb} {name(target)}", mapping[target], source_noun, kind
    if not mapping and edges:
        source, target, data = edges[0]
        kind = sorted(data["kinds"])[0]
        source_noun = noun(pattern.nodes[source]["type"])
        target_noun = _article(noun(pattern.nodes[target]["type"]))
        return f"no {source_noun} {VERBS.get(kind, kind)} {target_noun}", None, source_noun, kind
    missing = [noun(pattern.nodes[n]["type"]) for n in sorted(pattern) if n not in mapping]
    shown = " and no ".join(dict.fromkeys(missing)) or "nothing"
    return f"the template has no {shown}", None, missing[0] if missing else "", ""


def _conditional(
    graph: ResourceGraph, ours: nx.DiGraph, entry: Entry, scenarios: Scenarios
) -> Gap | None:
    """A gap where the entry is met only when some conditions hold."""
    for scenario in scenarios.all:
        unknown = scenario.default  # with the defaults, an undecidable condition may hold

        def exists(
            conditions: tuple[str, ...], scenario: Scenario = scenario, unknown: bool = unknown
        ) -> bool:
            return scenario.holds(conditions, unknown)

        view = _view(ours, exists)
        if any(_present(view, p.graph) is not None for p in entry.alternatives):
            continue
        parts = _conditional_parts(ours, entry)
        conditions = sorted(
            {c for conds in parts.values() for c in conds if not scenario.holds((c,), unknown)}
        )
        shown_parts = sorted(graph.resource(k).logical_id for k in parts)
        names = ", ".join(shown_parts) + (" exist" if len(shown_parts) > 1 else " exists")
        where = "the parameters' defaults"
        if not scenario.default:
            where = f"a deployment with {scenario.label()}"
        shown = ", ".join(conditions) or "its conditions"
        return Gap(
            entry.id,
            entry.architecture,
            ERROR if scenario.default else WARNING,
            f"{names} only when condition {shown} holds, which is false for {where}; "
            f"{entry.id}: {entry.words}",
            next(iter(sorted(parts)), None),
        )
    return None


def _conditional_parts(ours: nx.DiGraph, entry: Entry) -> dict[str, tuple[str, ...]]:
    """The conditional resources (and the resources making conditional connections) of a match."""
    parts: dict[str, tuple[str, ...]] = {}
    for pattern in entry.alternatives:
        match = _present(ours, pattern.graph)
        if match is None:
            continue
        for node in match.values():
            if ours.nodes[node]["conditions"]:
                parts[node] = ours.nodes[node]["conditions"]
        for source, target in pattern.graph.edges:
            vias = ours.edges[match[source], match[target]]["vias"]
            if vias and all(vias.values()):
                parts.update(vias)
        break
    return parts
