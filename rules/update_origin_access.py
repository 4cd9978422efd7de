"""software-updates, the origin: clients reach the load balancer only through CloudFront."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import number, origin_of
from archlint.rules.update_fleet import LOAD_BALANCER, UPDATES, application_load_balancers
from archlint.template import Resource
from archlint.values import Unknown, Value

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
WEB_PORTS = (80, 443)
ALL_PROTOCOLS = ("-1", "all")
TCP = ("tcp", "6")
STATUS_CODE = "FixedResponseConfig.StatusCode"
# Ranges no internet client comes from (RFC 1918, shared, loopback, link-local, ULA).
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)
# Headers every client or CloudFront itself sets: matching on them proves nothing.
NOT_SECRET_HEADERS = (
    "host",
    "user-agent",
    "referer",
    "via",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-amz-cf-id",
    "accept",
    "accept-encoding",
    "accept-language",
    "origin",
    "cookie",
)


@rule(
    code="AL705",
    name="origin-reachable-around-cloudfront",
    requirement="UPD-NO-ORIGIN-BYPASS",
    severity=ERROR,
    resource_types=(LOAD_BALANCER,),
    architectures=UPDATES,
    fix="Admit web traffic to the load balancer's security group only from CloudFront's "
    "origin-facing managed prefix list (SourcePrefixListId), or make the listener answer 403 by "
    "default and forward only requests carrying a secret custom header that the distribution "
    "adds (OriginCustomHeaders).",
)
def origin_reachable_around_cloudfront(lb: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For each Application Load Balancer, checks every ingress rule of its
    security groups that admits web traffic (TCP 80, 443 or a listener
    port, or all protocols): inline `SecurityGroupIngress` items and
    separate `AWS::EC2::SecurityGroupIngress` resources, in any `Fn::If`
    branch and every value a parameter allows. A public CIDR
    (`0.0.0.0/0` included) is a violation unless the listeners on the
    ports it admits require a secret origin header (either protection
    suffices): a listener's default action is a
    `fixed-response` with a 4xx status (or a `redirect`, such as HTTP to
    HTTPS, which reaches no target) and every listener rule that
    forwards matches an `http-header` condition on a custom header (not
    `Host`, `User-Agent`, `X-Amz-Cf-Id`...). Sources that are CloudFront's
    prefix list (`SourcePrefixListId`), security groups or private ranges
    are fine. Security groups outside the template give an `info` finding.

    ## Why is this bad?
    If the load balancer answers anyone, clients (and scrapers) can fetch
    the update files directly: every request bypasses the edge cache, WAF
    and geo rules, and lands on the instances the architecture was meant to
    shield.
    """
    if lb.key not in {a.key for a in application_load_balancers(graph)}:
        return
    resolver = graph.resolver
    protected = _requires_secret_header(lb, graph)
    # Which listener ports refuse requests without the secret header: a rule that
    # admits only those is protected, whatever its source.
    guarded: dict[int, bool] = {}
    for listener in graph.out(lb, "listener"):
        secret = _listener_requires_secret(listener, graph)
        for v in resolver.values_at(listener.properties, "Port"):
            if (n := number(v)) is not None:
                guarded[int(n)] = guarded.get(int(n), True) and secret
    ports = set(WEB_PORTS) | set(guarded)
    for value in resolver.values_at(lb.properties, "SecurityGroups[*]"):
        known = any(graph.type_of(k) == SECURITY_GROUP for k in graph.targets_of(value))
        if not known and not protected:
            reason = f"security group {value.text()} is not in this template"
            yield Violation(
                lb,
                f"cannot tell who reaches load balancer {lb.logical_id}: {reason}",
                line=value.line,
                undecided=Unknown(reason, value.line),
            )
    for group in graph.out(lb, "security_group"):
        for owner, rule_node in _ingress_rules(group, graph):
            admitted = _admitted_ports(rule_node, ports, graph)
            if not admitted:
                continue
            # Ports with a listener count by that listener; others by the whole balancer.
            shielded = all(guarded.get(port, protected) for port in admitted)
            for key in ("CidrIp", "CidrIpv6"):
                for value in resolver.values_at(rule_node, key):
                    problem = _source_problem(value, shielded)
                    if problem:
                        text, unknown = problem
                        yield Violation(
                            owner,
                            f"security group {group.logical_id} of load balancer "
                            f"{lb.logical_id} {text}",
                            line=value.line,
                            undecided=unknown,
                        )


def _ingress_rules(group: Resource, graph: ResourceGraph) -> Iterator[tuple[Resource, object]]:
    """(resource to edit, rule) for inline and separate ingress rules of a security group."""
    for node, _ in graph.resolver.find(group.properties, "SecurityGroupIngress[*]"):
        yield group, node
    for ingress in graph.into(group, "ingress_of"):
        yield ingress, ingress.properties


def _admitted_ports(rule_node: object, ports: set[int], graph: ResourceGraph) -> set[int]:
    """The web and listener ports an ingress rule admits (all of them where it cannot tell)."""
    resolver = graph.resolver
    protocols = [(v.text() or "").lower() for v in resolver.values_at(rule_node, "IpProtocol")]
    if any(p in ALL_PROTOCOLS for p in protocols):
        return set(ports)
    if not any(p in TCP for p in protocols):
        return set()
    lows = [number(v) for v in resolver.values_at(rule_node, "FromPort")]
    highs = [number(v) for v in resolver.values_at(rule_node, "ToPort")]
    bounds = [(low, high) for low in lows for high in highs]
    if not bounds or any(low is None or high is None for low, high in bounds):
        return set(ports)  # cannot bound it: assume web traffic
    return {
        port
        for low, high in bounds
        for port in ports
        if low == -1 or low <= port <= high  # type: ignore[operator]
    }


def _source_problem(value: Value, protected: bool) -> tuple[str, Unknown | None] | None:
    """What is wrong with admitting web traffic from a CIDR, and the Unknown if archlint
    cannot tell."""
    if isinstance(value, Unknown):
        return f"admits web traffic from a CIDR archlint cannot read ({value.reason})", value
    text = value.text() or ""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        reason = f"admits web traffic from {text}, which archlint cannot read"
        return reason, Unknown(reason, value.line)
    if protected:
        return (
            None  # every listener requires CloudFront's secret header: either protection suffices
        )
    if network.prefixlen == 0:
        return (
            f"admits web traffic from {text}{origin_of(value)} and no listener requires a secret "
            "origin header: anyone can bypass CloudFront",
            None,
        )
    if any(
        network.version == private.version and network.subnet_of(private)  # type: ignore[arg-type]
        for private in PRIVATE_NETWORKS
    ):
        return None
    return (
        f"admits web traffic from {text}{origin_of(value)}, not only from CloudFront's "
        "origin-facing prefix list, and no listener requires a secret origin header",
        None,
    )


def _requires_secret_header(lb: Resource, graph: ResourceGraph) -> bool:
    """Every listener refuses by default and forwards only on a secret custom header."""
    listeners = graph.out(lb, "listener")
    return bool(listeners) and all(_listener_requires_secret(ln, graph) for ln in listeners)


def _listener_requires_secret(listener: Resource, graph: ResourceGraph) -> bool:
    resolver = graph.resolver
    defaults = resolver.find(listener.properties, "DefaultActions[*]")
    if not defaults:
        return False
    for action, _ in defaults:
        types = [v.text() for v in resolver.values_at(action, "Type")]
        if types == ["redirect"]:  # answers with a redirect: the request reaches no target
            continue
        codes = [v.text() or "" for v in resolver.values_at(action, STATUS_CODE)]
        if types != ["fixed-response"] or not codes or not all(c.startswith("4") for c in codes):
            return False
    for listener_rule in graph.into(listener, "rule_of"):
        types = resolver.values_at(listener_rule.properties, "Actions[*].Type")
        forwards = any(v.text() == "forward" for v in types)
        if forwards and not _matches_custom_header(listener_rule, graph):
            return False
    return True


def _custom(header: str) -> bool:
    return bool(header) and header not in NOT_SECRET_HEADERS and not header.startswith("cloudfront")


def _matches_custom_header(listener_rule: Resource, graph: ResourceGraph) -> bool:
    resolver = graph.resolver
    for condition, _ in resolver.find(listener_rule.properties, "Conditions[*]"):
        fields = [v.text() for v in resolver.values_at(condition, "Field")]
        names = [
            (v.text() or "").lower()
            for v in resolver.values_at(condition, "HttpHeaderConfig.HttpHeaderName")
        ]
        secret = resolver.values_at(condition, "HttpHeaderConfig.Values[*]")
        if fields == ["http-header"] and names and secret and all(map(_custom, names)):
            return True
    return False
