"""MSV-NO-BACKDOOR: services call each other only through front doors or async channels."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import action_matches
from archlint.rule import ERROR, Violation, rule
from archlint.services import Service

# lambda:InvokeAsync is the deprecated asynchronous API; it still invokes the function.
INVOKE_ACTIONS = ("lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:InvokeAsync")
FUNCTION = "AWS::Lambda::Function"


@rule(
    code="AL802",
    name="function-invokes-other-service",
    requirement="MSV-NO-BACKDOOR",
    severity=ERROR,
    architectures=("microservices",),
    fix="Call the other service through its front door (its API or load balancer) or send it "
    "an event (SNS, SQS, Kinesis); remove the lambda:InvokeFunction grant or permission.",
)
def function_invokes_other_service(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For every service (an API Gateway API or load balancer and the functions
    behind it), checks that no role its functions run as is granted
    `lambda:InvokeFunction`, `lambda:InvokeFunctionUrl` or the deprecated
    `lambda:InvokeAsync` on a function of
    another service: in every statement of inline, attached and well-known
    managed policies, in every `Fn::If` branch, by reference, `Fn::Sub` ARN,
    function name (parameter defaults too), `Resource: "*"` or
    `...:function:*`, and through action wildcards. It also checks that no
    `AWS::Lambda::Permission` on one of its functions names another service's
    role or function as `Principal` or `SourceArn`.

    ## Why is this bad?
    A direct invocation couples two services to each other's internals:
    the caller skips the other service's API contract, authorization,
    throttling and versioning, and the callee can no longer change or move
    its functions without breaking a service it does not know about.
    """
    services = graph.services()
    for service in services:
        yield from _granted_invocations(service, services, graph)
        yield from _invoke_permissions(service, services, graph)


def _granted_invocations(
    service: Service, services: list[Service], graph: ResourceGraph
) -> Iterator[Violation]:
    seen: set[tuple[str, int | None]] = set()
    for role in service.roles:
        others = [
            (other, function)
            for other in services
            if other is not service and not other.has(role)
            for function in other.members
            if function.type == FUNCTION and not service.has(function)
        ]
        callers = ", ".join(
            m.logical_id
            for m in service.members
            if any(r.key == role.key for r in graph.roles_of(m))
        )
        for policy in graph.role_policies(role):
            owner = graph.resource(policy.owner) if policy.owner else role
            for statement in policy.allow_statements():
                if not any(statement.matches_action(a) for a in INVOKE_ACTIONS):
                    continue
                hit = [
                    f"{f.logical_id} (service {o.name})"
                    for o, f in others
                    if graph.covers(statement, f)
                ]
                if hit and (owner.key, statement.line) not in seen:
                    seen.add((owner.key, statement.line))
                    yield Violation(
                        owner,
                        f"{statement.label} lets {callers} of service {service.name} invoke "
                        f"{', '.join(hit)} directly, bypassing its front door",
                        line=statement.line,
                    )


def _invoke_permissions(
    service: Service, services: list[Service], graph: ResourceGraph
) -> Iterator[Violation]:
    resolver = graph.resolver
    for function in (m for m in service.members if m.type == FUNCTION):
        for permission in graph.into(function, "permission_for"):
            actions = [v.text() or "" for v in resolver.values_at(permission.properties, "Action")]
            if not any(action_matches(a, i) for a in actions for i in INVOKE_ACTIONS):
                continue
            for field in ("Principal", "SourceArn"):
                for value in resolver.values_at(permission.properties, field):
                    named = [graph.resource(k) for k in graph.targets_of(value)]
                    intruders = [
                        f"{r.logical_id} (service {o.name})"
                        for r in named
                        if not service.has(r)
                        for o in services
                        if o is not service and o.has(r)
                    ]
                    if intruders:
                        yield Violation(
                            permission,
                            f"{permission.logical_id} lets {', '.join(intruders)} invoke "
                            f"{function.logical_id} of service {service.name} directly: "
                            f"{field} is {value.text()}",
                            line=value.line or permission.line_of(field),
                        )
