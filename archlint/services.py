"""What a microservice is, derived from the graph: a front door and what runs behind it.

A service is an API Gateway API or a load balancer (the front door), the
functions and targets it sends requests to, the functions that consume a
queue or stream only that service uses (its workers), the roles they run as
and what those roles are granted. Nothing is read from names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archlint.template import Resource

if TYPE_CHECKING:
    from archlint.graph import ResourceGraph

# What a client calls a service through.
FRONT_DOOR_TYPES = (
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGatewayV2::Api",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
)
# Which role a service's code runs as: the edges (kinds, step by step) from the
# compute to its role. An instance names its profile by plain reference.
_NAMES = ("ref", "getatt")
RUNS_AS: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::Lambda::Function": (("execution_role",),),
    "AWS::EC2::Instance": (_NAMES, ("instance_role",)),
    "AWS::AutoScaling::AutoScalingGroup": (("launch_template",), _NAMES, ("instance_role",)),
    "AWS::ECS::Service": (("task_definition",), ("task_role",)),
}
# Where a service hands work to its own workers.
_WORK_QUEUES = ("AWS::SQS::Queue", "AWS::Kinesis::Stream")


@dataclass(eq=False)
class Service:
    """A microservice: a front door and what runs and lives behind it.

    `members`: the functions and targets the front door sends requests to
    (API integrations, in the Body or in `AWS::ApiGateway::Method` /
    `AWS::ApiGatewayV2::Integration` resources; load balancer listener ->
    target group -> Lambda/instance targets, Auto Scaling groups, ECS
    services), plus the functions behind no front door that consume a queue
    or stream only this service's roles use. `roles`: what the members run
    as. `resources`: what those roles are granted (tables, queues, topics).
    """

    front_door: Resource
    members: list[Resource]
    roles: list[Resource]
    resources: list[Resource]

    @property
    def name(self) -> str:
        return self.front_door.logical_id

    def has(self, resource: Resource) -> bool:
        """Whether a resource runs inside the service: one of its members or their roles."""
        return any(r.key == resource.key for r in (*self.members, *self.roles))


def derive_services(graph: ResourceGraph) -> list[Service]:
    """Each front door of the template with its members, roles and their grants."""
    behind = {door.key: _behind(graph, door) for door in graph.resources(*FRONT_DOOR_TYPES)}
    claimed = {m.key for members in behind.values() for m in members}
    workers = _workers(graph, behind, claimed)
    services = []
    for key, members in behind.items():
        members = _unique([*members, *workers.get(key, ())])
        roles = _unique(r for m in members for r in roles_of(graph, m))
        granted = _unique(t for r in roles for t in graph.out(r, "grants"))
        services.append(Service(graph.resource(key), members, roles, granted))
    return services


def dns_records(graph: ResourceGraph, resource: Resource) -> list[tuple[Resource, Resource]]:
    """Route 53 records that resolve to a resource, each with what the record names.

    That is the resource itself (an alias or CNAME to a load balancer), an
    API Gateway custom domain mapped to it, or a CloudFront distribution
    that has it as an origin.
    """
    hops = [resource, *graph.into(resource, "maps_to"), *graph.into(resource, "origin")]
    return [(record, hop) for hop in hops for record in graph.into(hop, "alias_target")]


def roles_of(graph: ResourceGraph, member: Resource) -> list[Resource]:
    """The IAM roles a function, instance, Auto Scaling group or ECS service runs as."""
    if member.type not in RUNS_AS:
        return []
    current = [member]
    for kinds in RUNS_AS[member.type]:
        current = _unique(n for node in current for k in kinds for n in graph.out(node, k))
    return [r for r in current if r.type == "AWS::IAM::Role"]


def _behind(graph: ResourceGraph, door: Resource) -> list[Resource]:
    """The functions and targets a front door sends requests to."""
    if door.type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        groups = graph.target_groups_of(door)
        found = [t for g in groups for t in (*graph.out(g, "routes_to"), *graph.into(g, "targets"))]
    else:
        parts = [door] + [
            p
            for p in graph.into(door, "api")
            if p.type in ("AWS::ApiGateway::Method", "AWS::ApiGatewayV2::Integration")
        ]
        found = [f for p in parts for f in graph.out(p, "integration")]
    # An alias or version stands for its function.
    return _unique(next(iter(graph.out(f, "version_of")), f) for f in found)


def _workers(
    graph: ResourceGraph, behind: dict[str, list[Resource]], claimed: set[str]
) -> dict[str, list[Resource]]:
    """Functions behind no front door that consume a queue or stream only one service uses."""
    users: dict[str, set[str]] = {}
    for door, members in behind.items():
        for role in (r for m in members for r in roles_of(graph, m)):
            for target in graph.out(role, "grants"):
                if target.type in _WORK_QUEUES:
                    users.setdefault(target.key, set()).add(door)
    workers: dict[str, list[Resource]] = {}
    for queue, doors in users.items():
        if len(doors) == 1:
            consumers = graph.out(graph.resource(queue), "event_source")
            workers.setdefault(doors.pop(), []).extend(f for f in consumers if f.key not in claimed)
    return workers


def _unique(resources: Iterable[Resource]) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for resource in resources:
        seen.setdefault(resource.key, resource)
    return list(seen.values())
