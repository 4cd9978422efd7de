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

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

import networkx as nx
from networkx.algorithms import isomorphism

from archlint.conditions import Scenario, Scenarios
from archlint.conformance_words import describe, noun
from archlint.graph import ResourceGraph
from archlint.skeleton import PLUMBING_KINDS, skeleton, type_class
from archlint.template import Template

__all__ = ["PLUMBING_KINDS", "Entry", "Gap", "Pattern", "entries", "gaps", "skeleton", "type_class"]
# Above this many candidate nodes the exact search is skipped.
MAX_MATCH_NODES = 3_000
ERROR, WARNING = "error", "warning"

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
    for node in sorted(nodes):
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
    detail, resource, missing_type, kind = describe(graph, ours, best.graph, mapping)
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
