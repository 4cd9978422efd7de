"""software-updates, the fleet: an ALB and an Auto Scaling group across zones, that scales."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import number, origin_of, resources_line, unique
from archlint.template import Resource
from archlint.values import Lit, Pseudo, Text, Unknown, Value

UPDATES = ("software-updates",)
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
CLASSIC_LOAD_BALANCER = "AWS::ElasticLoadBalancing::LoadBalancer"
ASG = "AWS::AutoScaling::AutoScalingGroup"
SUBNET = "AWS::EC2::Subnet"
SCALING_POLICY = "AWS::AutoScaling::ScalingPolicy"
SCHEDULED_ACTION = "AWS::AutoScaling::ScheduledAction"
ALARM_TRIGGERED = ("SimpleScaling", "StepScaling")  # the default PolicyType is SimpleScaling
GET_AZS = "${AZ"  # how the resolver renders `!Select [i, !GetAZs ""]`: ${AZ1}, ${AZ2}, ...
MAX_COMBINATIONS = 64


def application_load_balancers(graph: ResourceGraph) -> list[Resource]:
    """Load balancers that are (in some branch) Application Load Balancers."""
    return [
        lb
        for lb in graph.resources(LOAD_BALANCER)
        if not (types := graph.resolver.values_at(lb.properties, "Type"))
        or any(v.text() == "application" for v in types)
    ]


def fleets_behind(lb: Resource, graph: ResourceGraph) -> list[Resource]:
    """Auto Scaling groups registered in a target group the load balancer forwards to."""
    return unique(
        [
            asg
            for group in graph.target_groups_of(lb)
            for asg in graph.into(group, "targets")
            if asg.type == ASG
        ]
    )


# -- AL701 ----------------------------------------------------------------------


@rule(
    code="AL701",
    name="fleet-not-multi-az",
    requirement="UPD-MULTI-AZ-FLEET",
    severity=ERROR,
    architectures=UPDATES,
    fix="Put the load balancer and the Auto Scaling group in subnets of at least two "
    'Availability Zones (e.g. AvailabilityZone !Select [0, !GetAZs ""] and [1, ...]) and list '
    "the target group in the group's TargetGroupARNs.",
)
def fleet_not_multi_az(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that an Application Load Balancer forwards (through a listener
    or a listener rule) to a target group in which an Auto Scaling group
    registers its instances (`TargetGroupARNs`, or `TrafficSources` of Type
    `elbv2`), and that both span at least
    two Availability Zones. Zones come from each subnet's `AvailabilityZone`
    (`Subnets`, `SubnetMappings`, `VPCZoneIdentifier`) or from the group's
    `AvailabilityZones` list; `!Select [i, !GetAZs ""]` gives distinct zones
    for distinct `i`. Counting is conservative: every `Fn::If` branch and
    parameter default is tried, and a literal zone name may be the same
    zone as a `Fn::GetAZs` one. A subnet whose zone is unknown gives an
    `info` finding when it decides the count.

    ## Why is this bad?
    One zone is one failure domain: an outage of that zone takes every
    instance, and the load balancer with them, offline, and clients cannot
    fetch updates until it recovers.
    """
    albs = application_load_balancers(graph)
    if not albs:
        others = list(graph.resources(LOAD_BALANCER, CLASSIC_LOAD_BALANCER))
        for lb in others:
            yield Violation(
                lb,
                f"load balancer {lb.logical_id} is not an Application Load Balancer",
                line=lb.line_of("Type"),
            )
        if not others:
            yield Violation(
                None,
                "no Application Load Balancer with an Auto Scaling group behind it",
                line=resources_line(graph),
            )
        return
    groups = list(graph.resources(ASG))
    for lb in albs:
        for value in graph.resolver.values_at(lb.properties, "Type"):
            if value.text() != "application":
                yield Violation(
                    lb,
                    f"load balancer {lb.logical_id} can be of Type {value.text()}"
                    f"{origin_of(value)}, not an Application Load Balancer",
                    line=value.line,
                )
        yield from _zone_problems(lb, graph)
        fleets = fleets_behind(lb, graph)
        for asg in fleets:
            yield from _zone_problems(asg, graph)
        if fleets:
            continue
        for asg in groups:
            yield Violation(
                asg,
                f"Auto Scaling group {asg.logical_id} registers in no target group that load "
                f"balancer {lb.logical_id} forwards to",
                line=asg.line_of("TargetGroupARNs"),
            )
        if not groups:
            yield Violation(
                lb,
                f"no Auto Scaling group is attached to a target group of load balancer "
                f"{lb.logical_id}",
                line=lb.line,
            )


def _zone_problems(resource: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """A violation if some branch puts the resource in one zone; info if it cannot tell."""
    prop, subnets = _placement(resource)
    kind = "load balancer" if resource.type == LOAD_BALANCER else "Auto Scaling group"
    line = resource.line_of(prop)
    undecided: Unknown | None = None
    for members in _placements(resource, prop, subnets, graph):
        if members is None:
            undecided = undecided or Unknown(f"{prop} is known only at deploy time", line)
            continue
        verdict = _count(members)
        shown = ", ".join(label for label, _ in members) or "nothing"
        if verdict == "one":
            yield Violation(
                resource,
                f"{kind} {resource.logical_id} can span a single Availability Zone: {shown}",
                line=line,
            )
            return
        if verdict == "unknown" and undecided is None:
            undecided = Unknown(shown, line)
    if undecided is not None:
        yield Violation(
            resource,
            f"cannot tell whether {kind} {resource.logical_id} spans two Availability Zones: "
            f"{undecided.reason}",
            line=line,
            undecided=undecided,
        )


def _placement(resource: Resource) -> tuple[str, bool]:
    """The property that places the resource, and whether it lists subnets (or zones)."""
    props = resource.properties
    if resource.type == LOAD_BALANCER:
        return ("SubnetMappings" if "SubnetMappings" in props else "Subnets"), True
    if "VPCZoneIdentifier" in props:
        return "VPCZoneIdentifier", True
    return "AvailabilityZones", False


def _placements(
    resource: Resource, prop: str, subnets: bool, graph: ResourceGraph
) -> Iterator[list[tuple[str, Value]] | None]:
    """Each possible placement, branch by branch: a (label, zone) per subnet or zone listed.

    None for a placement whose list itself is unknown (a parameter without default).
    """
    resolver = graph.resolver
    if prop not in resource.properties:
        return
    for candidate in resolver.expand(resource.properties[prop]):
        if not isinstance(candidate, list):
            yield None
            continue
        options: list[list[tuple[str, Value]]] = []
        for item in candidate:
            if prop == "SubnetMappings":
                values = resolver.values_at(item, "SubnetId")
            else:
                values = resolver.values(item)
            choices: list[tuple[str, Value]] = []
            for value in values:
                if subnets:
                    choices.extend(
                        (f"{subnet} in {_zone_text(zone)}", zone)
                        for subnet, zone in _subnet_zones(value, graph)
                    )
                else:
                    choices.append((_zone_text(value), value))
            if choices:
                options.append(choices)
        yield from (
            list(c) for c in itertools.islice(itertools.product(*options), MAX_COMBINATIONS)
        )


def _subnet_zones(value: Value, graph: ResourceGraph) -> list[tuple[str, Value]]:
    keys = [k for k in graph.targets_of(value) if graph.type_of(k) == SUBNET]
    if isinstance(value, Unknown):
        return [(f"a subnet archlint cannot resolve ({value.reason})", value)]
    if not keys:
        return [(f"{value.text()} (not in this template)", Unknown("subnet not in the template"))]
    out: list[tuple[str, Value]] = []
    for key in keys:
        subnet = graph.resource(key)
        zones = [
            zone
            for prop in ("AvailabilityZone", "AvailabilityZoneId")
            for zone in graph.resolver.values_at(subnet.properties, prop)
        ]
        if not zones:
            out.append((f"{subnet.logical_id} (no AvailabilityZone)", Unknown("EC2 picks one")))
        out.extend((subnet.logical_id, zone) for zone in zones)
    return out


def _zone_text(zone: Value) -> str:
    if isinstance(zone, Unknown):
        return "an unknown zone"
    text = zone.text() or "?"
    if text.startswith(GET_AZS) and text.endswith("}"):
        return f"Fn::GetAZs zone #{text[len(GET_AZS) : -1]}"
    return text + origin_of(zone)


def _count(members: list[tuple[str, Value]]) -> str:
    """'one' if the members may all be in one zone, 'unknown' if it depends, else 'many'."""
    known = {z.text() for _, z in members if isinstance(z, (Lit, Text, Pseudo)) and z.text()}
    unknown = sum(1 for _, z in members if not (isinstance(z, (Lit, Text, Pseudo)) and z.text()))
    if len(known) + unknown < 2:
        return "one"
    # A literal zone name may be the same zone as a Fn::GetAZs placeholder.
    placeholders = {z for z in known if z.startswith(GET_AZS)}
    at_least = max(len(placeholders), len(known - placeholders))
    if at_least >= 2:
        return "many"
    return "unknown" if unknown else "one"


# -- AL702 ----------------------------------------------------------------------


@rule(
    code="AL702",
    name="fleet-without-scaling-policy",
    requirement="UPD-ASG-SCALING",
    severity=ERROR,
    resource_types=(ASG,),
    architectures=UPDATES,
    fix="Add an AWS::AutoScaling::ScalingPolicy (TargetTrackingScaling on "
    "ASGAverageCPUUtilization) whose AutoScalingGroupName is !Ref to the group, and give the "
    "group a MaxSize above its MinSize.",
)
def fleet_without_scaling_policy(asg: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that an Auto Scaling group is scaled by an
    `AWS::AutoScaling::ScalingPolicy` or `ScheduledAction` whose
    `AutoScalingGroupName` names it in every `Fn::If` branch, that exists
    whenever the group does (no `Condition` of its own), and, for simple and
    step scaling (the default `PolicyType` is `SimpleScaling`), that a
    CloudWatch alarm triggers it through `AlarmActions`. With policies only
    (no scheduled action), `MaxSize` must be above `MinSize` in every branch
    and parameter default, or the policy has nothing to scale.

    ## Why is this bad?
    A fixed-size fleet is paid for at peak all day and still falls over when
    a release makes every client download at once; a policy nothing
    triggers, or that exists only in some stacks, scales nothing.
    """
    resolver = graph.resolver
    name = asg.logical_id
    working: list[Resource] = []
    problems: list[Violation] = []
    for scaler in graph.into(asg, "scales"):
        found = list(_scaler_problems(scaler, asg, graph))
        if not found:
            working.append(scaler)
        problems.extend(found)
    if not working:
        yield from problems or [
            Violation(
                asg,
                f"Auto Scaling group {name} has no scaling policy or scheduled action",
                line=asg.line,
            )
        ]
        return
    if any(s.type == SCHEDULED_ACTION for s in working):
        return
    for low, high in itertools.product(
        resolver.values_at(asg.properties, "MinSize"), resolver.values_at(asg.properties, "MaxSize")
    ):
        low_n, high_n = number(low), number(high)
        if low_n is None or high_n is None:
            reason = f"MinSize is {low.text()}, MaxSize is {high.text()}"
            line = asg.line_of("MaxSize")
            yield Violation(
                asg,
                f"cannot tell whether Auto Scaling group {name} can scale: {reason}",
                line=line,
                undecided=Unknown(reason, line),
            )
        elif high_n <= low_n:
            yield Violation(
                asg,
                f"Auto Scaling group {name} cannot scale: MaxSize {high.text()}{origin_of(high)} "
                f"is not above MinSize {low.text()}{origin_of(low)}",
                line=high.line or asg.line_of("MaxSize"),
            )


def _scaler_problems(scaler: Resource, asg: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    resolver = graph.resolver
    name = scaler.logical_id
    if scaler.condition and scaler.condition != asg.condition:
        yield Violation(
            scaler,
            f"{name} exists only when condition {scaler.condition} holds; otherwise Auto Scaling "
            f"group {asg.logical_id} never scales",
            line=scaler.body.line_of("Condition"),
        )
    for value in resolver.values_at(scaler.properties, "AutoScalingGroupName"):
        if not graph.refers_to(value, asg):
            yield Violation(
                scaler,
                f"{name} can scale {value.text()}{origin_of(value)} instead of Auto Scaling "
                f"group {asg.logical_id}",
                line=value.line,
            )
    if scaler.type != SCALING_POLICY or graph.into(scaler, "alarm_action"):
        return
    types = resolver.values_at(scaler.properties, "PolicyType") or [Lit("SimpleScaling")]
    for value in types:
        if value.text() in ALARM_TRIGGERED:
            yield Violation(
                scaler,
                f"{value.text()} policy {name} is in no CloudWatch alarm's AlarmActions, so it "
                f"never scales Auto Scaling group {asg.logical_id}",
                line=value.line or scaler.line_of("PolicyType"),
            )
