"""The resource graph every rule reads: built once per template.

Nodes are resources (keyed by logical id). Edges carry a `kind`:

* syntactic: `ref`, `getatt`, `sub`, `depends_on`, from every intrinsic;
* semantic: one row of `SEMANTIC_EDGES` (archlint/edges.py) each (CloudFront origin -> bucket,
  bucket -> notified function, queue -> consuming function, ...), so a new
  fact about AWS is a new row, not new code in a rule;
* `grants`: role -> resource for each allowed statement of its policies,
  with the actions on the edge.

Rules ask questions through the small API at the bottom (`out`, `into`,
`role_policies`, `resource_policies`, `refers_to`, `grants`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cached_property

import networkx as nx

from archlint.edges import NAME_PROPERTIES, SELF, SEMANTIC_EDGES, EdgeRow
from archlint.graph_iam import IamQuestions
from archlint.services import Service, derive_services, dns_records, roles_of
from archlint.template import Resource, Template
from archlint.values import Lit, Resolver, Text, Value, intrinsic_name, is_no_value, refs_in

# Splits an ARN or URL into the names it may contain, keeping `${AWS::X}` whole.
_NAME_TOKENS = re.compile(r"[:/](?![^{]*\})")
# A bucket's virtual-hosted endpoint names the bucket: `NAME.s3.amazonaws.com`,
# `NAME.s3.REGION.amazonaws.com`, `NAME.s3-website-REGION.amazonaws.com`,
# `NAME.s3.dualstack.REGION.amazonaws.com`, `${AWS::URLSuffix}` for the suffix.
# Linear time: a label ends where the next character cannot continue it (or
# before `-${`), so `-` is never both a separator and part of a label; hosts
# longer than any real one (1,024 characters) are not hosts.
_S3_HOST = re.compile(
    r"^(?=.{1,1024}$)(?P<name>.+)\.s3(?:-website|-accelerate)?"
    r"(?:[.-](?:\$\{[^}]*\}|[a-z0-9-]+?(?=-\$\{|[^a-z0-9-]|$)))*"
    r"\.(?:amazonaws\.com(?:\.cn)?|\$\{AWS::URLSuffix\})\.?$",
    re.I,
)


class ResourceGraph(IamQuestions):
    """A template's resources and how they connect."""

    def __init__(self, template: Template, architectures: tuple[str, ...] = ()) -> None:
        self.template = template
        # The architectures the template is checked against (declared + --architecture).
        self.architectures = architectures
        self.resolver = Resolver(template)
        self.g = nx.MultiDiGraph()
        for key, resource in template.resources.items():
            self.g.add_node(key, type=resource.type, resource=resource)
        self._record_targets: dict[str, set[str]] = {}
        self._names = self._physical_names()
        self._add_syntactic_edges()
        self._add_semantic_edges()
        self._add_grants()

    # -- building ---------------------------------------------------------------

    def _physical_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for key, resource in self.template.resources.items():
            prop = NAME_PROPERTIES.get(resource.type)
            if prop and prop in resource.properties:
                # Every name the resource can have (a parameter's allowed values,
                # both branches of an Fn::If) finds it.
                for value in self.resolver.values(resource.properties[prop]):
                    name = value.text() if isinstance(value, (Lit, Text)) else None
                    if name:
                        # A DNS name is the same with or without its final dot.
                        names.setdefault(name.rstrip(".") or name, key)
        return names

    def _add_syntactic_edges(self) -> None:
        for key, resource in self.template.resources.items():
            for target, kind, line in _references(resource.properties):
                target_key = self._key(target)
                if target_key is not None:
                    self.g.add_edge(key, target_key, kind=kind, line=line)
            for dependency in resource.depends_on:
                target_key = self._key(dependency)
                if target_key is not None:
                    self.g.add_edge(key, target_key, kind="depends_on", line=resource.line)

    def _key(self, logical_id: str) -> str | None:
        return logical_id if logical_id in self.template.resources else None

    def _add_semantic_edges(self) -> None:
        rows_by_type: dict[str, list[EdgeRow]] = {}
        for row in SEMANTIC_EDGES:
            rows_by_type.setdefault(row.source_type, []).append(row)
        for key, resource in self.template.resources.items():
            for row in rows_by_type.get(resource.type, ()):
                sources = (
                    [(key, resource.line)]
                    if row.frm == SELF
                    else self._found(resource, row.frm, ())
                )
                if not sources:
                    continue
                if row.to == SELF:
                    targets = [(key, resource.line)]
                else:
                    targets = self._found(resource, row.to, row.targets, row.deep)
                for source, _ in sources:
                    for target, line in targets:
                        if source != target:
                            self.g.add_edge(source, target, kind=row.kind, via=key, line=line)

    def _found(
        self, resource: Resource, path: str, types: tuple[str, ...], deep: bool = False
    ) -> list[tuple[str, int | None]]:
        out: list[tuple[str, int | None]] = []
        for node, line in self.resolver.find(resource.properties, path):
            if deep:
                keys = {t for t, _, _ in _references(node)}
                found = [(k, line) for k in map(self._key, keys) if k is not None]
            else:
                found = [
                    (k, line) for v in self.resolver.values(node, line) for k in self.targets_of(v)
                ]
            out.extend((k, ln) for k, ln in found if not types or self.type_of(k) in types)
        return out

    def targets_of(self, value: Value) -> set[str]:
        """Resources a value refers to: by reference, or by physical name or ARN.

        A Route 53 record stands for what it resolves to as well: a CloudFront
        origin named `origin.example.com`, or `!Ref` to that record, whose
        alias is the load balancer, refers to the record and the load balancer.
        """
        found = {ref.target for ref in refs_in(value)}
        text = value.text() if isinstance(value, (Lit, Text)) else None
        if text and self._names:
            for token in _NAME_TOKENS.split(text):
                key = (
                    self._names.get(token.rstrip("*"))
                    or self._names.get(token)
                    or self._names.get(token.rstrip("."))
                )
                if key is not None:
                    found.add(key)
                host = _S3_HOST.match(token)
                key = self._names.get(host.group("name")) if host else None
                if key is not None and self.type_of(key) == "AWS::S3::Bucket":
                    found.add(key)
        for key in [k for k in found if self.type_of(k) == RECORD_SET]:
            found |= self._resolves_to(key)
        return found

    def _resolves_to(self, record: str) -> set[str]:
        """What a Route 53 record's alias or values name (memoised; cycles resolve to nothing)."""
        cached = self._record_targets.get(record)
        if cached is not None:
            return cached
        self._record_targets[record] = set()
        props = self.resource(record).properties
        found: set[str] = set()
        for path in ("AliasTarget.DNSName", "ResourceRecords[*]"):
            for value in self.resolver.values_at(props, path):
                found |= self.targets_of(value)
        found.discard(record)
        self._record_targets[record] = found
        return found

    # -- questions ------------------------------------------------------------

    def resource(self, key: str) -> Resource:
        return self.g.nodes[key]["resource"]

    def type_of(self, key: str) -> str:
        return self.g.nodes[key]["type"] if key in self.g else ""

    def resources(self, *types: str) -> Iterator[Resource]:
        return self.template.of_type(*types) if types else iter(self.template.resources.values())

    def out(self, resource: Resource, kind: str) -> list[Resource]:
        """Resources this one points to with edges of `kind`."""
        return _unique(
            self.resource(t)
            for _, t, data in self.g.out_edges(resource.key, data=True)
            if data["kind"] == kind
        )

    def into(self, resource: Resource, kind: str) -> list[Resource]:
        """Resources that point to this one with edges of `kind`."""
        return _unique(
            self.resource(s)
            for s, _, data in self.g.in_edges(resource.key, data=True)
            if data["kind"] == kind
        )

    def edges_out(self, resource: Resource, kind: str) -> list[tuple[Resource, dict]]:
        return [
            (self.resource(t), data)
            for _, t, data in self.g.out_edges(resource.key, data=True)
            if data["kind"] == kind
        ]

    def edges_in(self, resource: Resource, kind: str) -> list[tuple[Resource, dict]]:
        return [
            (self.resource(s), data)
            for s, _, data in self.g.in_edges(resource.key, data=True)
            if data["kind"] == kind
        ]

    def items_referring(
        self, resource: Resource, path: str, field: str, target: Resource
    ) -> list[tuple[object, int | None]]:
        """Items at `path` of a resource whose `field` refers to `target`.

        E.g. the origins of a distribution that point at a bucket:
        `items_referring(dist, "DistributionConfig.Origins[*]", "DomainName", bucket)`.
        """
        return [
            (item, line)
            for item, line in self.resolver.find(resource.properties, path)
            if any(self.refers_to(v, target) for v in self.resolver.values_at(item, field))
        ]

    def refers_to(self, value: Value, resource: Resource) -> bool:
        return resource.key in self.targets_of(value)

    def target_groups_of(self, load_balancer: Resource) -> list[Resource]:
        """Target groups a load balancer forwards to, through its listeners and their rules."""
        found: list[Resource] = []
        for listener in self.out(load_balancer, "listener"):
            found.extend(self.out(listener, "forwards_to"))
            for listener_rule in self.into(listener, "rule_of"):
                found.extend(self.out(listener_rule, "forwards_to"))
        return _unique(found)

    def execution_role(self, function: Resource) -> Resource | None:
        """The role a function runs as; an alias or a version runs as its function's."""
        roles = self.out(function, "execution_role")
        if not roles:
            for target in self.out(function, "version_of"):
                roles = self.out(target, "execution_role")
                if roles:
                    break
        return roles[0] if roles else None

    def may_be_absent(self, root: object, path: str) -> bool:
        """Whether some `Fn::If` branch leaves out the value at a dotted path.

        True when a key on the path is missing, or a branch on the way is
        `AWS::NoValue`, null or empty: `RedrivePolicy: !If [Prod, {...},
        !Ref AWS::NoValue]` may be absent. Other intrinsics count as present.
        """
        nodes = [root]
        for key in path.split("."):
            following: list[object] = []
            for node in nodes:
                for branch in _branches(node):
                    if branch in (None, "", []):
                        return True
                    if isinstance(branch, dict) and key in branch:
                        following.append(branch[key])
                    elif isinstance(branch, dict) and not intrinsic_name(branch):
                        return True
            nodes = following
        return any(b in (None, "", []) for node in nodes for b in _branches(node))

    # -- services (microservices): see archlint/services.py ------------------

    def services(self) -> list[Service]:
        """Each API Gateway API and load balancer with what runs behind it."""
        return self._services

    @cached_property
    def _services(self) -> list[Service]:
        return derive_services(self)

    def dns_records(self, resource: Resource) -> list[tuple[Resource, Resource]]:
        """Route 53 records that resolve to a resource, each with what the record names."""
        return dns_records(self, resource)

    def roles_of(self, member: Resource) -> list[Resource]:
        """The IAM roles a function, instance, Auto Scaling group or ECS service runs as."""
        return roles_of(self, member)


RECORD_SET = "AWS::Route53::RecordSet"


def _unique(resources: Iterable[Resource]) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for resource in resources:
        seen.setdefault(resource.key, resource)
    return list(seen.values())


def _branches(node: object) -> list[object]:
    """The raw nodes a position holds in each `Fn::If` branch; None for `AWS::NoValue`."""
    if is_no_value(node):
        return [None]
    if intrinsic_name(node) == "Fn::If":
        args = node["Fn::If"]  # type: ignore[index]
        if isinstance(args, list) and len(args) == 3:
            return _branches(args[1]) + _branches(args[2])
    return [node]


_SUB_NAMES = re.compile(r"\$\{([^}!][^}]*)\}")


def _references(node: object) -> Iterator[tuple[str, str, int | None]]:
    """Every (logical id, edge kind, line) referenced below a node, iteratively."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if len(current) == 1:
                (key,) = current
                value = current[key]
                line = getattr(current, "line", None)
                if key == "Ref" and isinstance(value, str) and not value.startswith("AWS::"):
                    yield value, "ref", line
                    continue
                if key == "Fn::GetAtt":
                    target = value[0] if isinstance(value, list) and value else value
                    if isinstance(target, str):
                        yield target.split(".", 1)[0], "getatt", line
                    continue
                if key == "Fn::Sub":
                    template = value[0] if isinstance(value, list) and value else value
                    if isinstance(template, str):
                        for name in _SUB_NAMES.findall(template):
                            if not name.startswith("AWS::"):
                                yield name.split(".", 1)[0].strip(), "sub", line
                    if isinstance(value, list) and len(value) > 1:
                        stack.append(value[1])
                    continue
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
