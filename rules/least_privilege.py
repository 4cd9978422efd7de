"""X-LEAST-PRIVILEGE: no role may do everything, or everything in a service, everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Text, Unknown


@rule(
    code="AL104",
    name="role-grants-wildcard-actions",
    requirement="X-LEAST-PRIVILEGE",
    severity=ERROR,
    resource_types=("AWS::IAM::Role",),
    fix="List the actions the workload calls and the ARNs it calls them on.",
)
def role_grants_wildcard_actions(role: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks every policy of an IAM role (inline, attached `AWS::IAM::Policy`
    and `ManagedPolicy` resources, and every AWS managed policy it attaches,
    judged by the policy's real statements from the bundled AWS managed
    policy data) for an Allow statement that grants `Action: "*"`,
    a whole service (`s3:*`, in any letter case) or everything but a few
    actions (`NotAction`) on `Resource: "*"`, on every resource of a service
    (`arn:${AWS::Partition}:s3:::*`) or on everything but a few resources
    (`NotResource`). Statements behind `Fn::If`, single statements not in a
    list, and documents given as JSON strings (also built with `Fn::Sub`)
    count; actions or resources archlint cannot resolve are reported as info.

    ## Why is this bad?
    A compromised function or instance can then do anything its role can:
    read every bucket, delete every table, create users. Execution roles
    should name the few actions and resources the code really uses.
    """
    of_template = [
        p for p in graph.out(role, "managed_policy") if p.type == "AWS::IAM::ManagedPolicy"
    ]
    for policy in graph.role_policies(role):
        owner = graph.resource(policy.owner) if policy.owner else role
        for statement in policy.allow_statements():
            arn = statement.policy_arn
            if arn is not None and statement.unknown_actions:
                # A policy of the template is judged by its own statements.
                if not any(graph.refers_to(arn, p) for p in of_template):
                    shown = arn.text() if not isinstance(arn, Unknown) else "(unresolved)"
                    yield Violation(
                        owner,
                        f"cannot tell what managed policy {shown} grants role "
                        f"{role.logical_id}: {statement.unknown_actions[0]}",
                        line=statement.line,
                        undecided=Unknown(statement.unknown_actions[0], statement.line),
                    )
                continue
            wildcard = _wildcard_actions(statement)
            everything = _on_everything(statement)
            if wildcard and everything:
                yield Violation(
                    owner,
                    f"{statement.label} lets role {role.logical_id} perform {wildcard} on "
                    f"{everything}",
                    line=statement.line,
                )
            elif wildcard and any(isinstance(v, Unknown) for v in statement.resources):
                unknown = next(v for v in statement.resources if isinstance(v, Unknown))
                yield Violation(
                    owner,
                    f"{statement.label} lets role {role.logical_id} perform {wildcard}; cannot "
                    f"tell on which resources: {unknown.reason}",
                    line=statement.line,
                    undecided=unknown,
                )
            elif statement.unknown_actions and (everything or not statement.actions):
                yield Violation(
                    owner,
                    f"cannot tell which actions {statement.label} grants role "
                    f"{role.logical_id}: {statement.unknown_actions[0]}",
                    line=statement.line,
                    undecided=Unknown(statement.unknown_actions[0], statement.line),
                )


def _matches_everything(part: str) -> bool:
    """`*`, `**`, `*?`, `?*`: IAM matches every (non-empty) name with it."""
    return "*" in part and not part.strip("*?")


def _wildcard_actions(statement: Statement) -> str | None:
    if statement.not_action:
        return "every action except " + ", ".join(statement.actions or ("none",))
    for action in statement.actions:
        service, colon, name = action.partition(":")
        if _matches_everything(action) or (
            colon and service and ":" not in name and _matches_everything(name)
        ):
            return f"'{action}'"
    return None


# `arn:aws:s3:::*`, `arn:${AWS::Partition}:dynamodb:*`, `arn:aws:sqs:*:*:*`: every
# resource of a service, whatever the region and account (`**`, `*?` too).
_EVERY_RESOURCE_ARN = re.compile(r"^arn:[^:]*:[a-z0-9-]+:(?:[^:]*:){0,2}\?*\*[*?]*$")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def _on_everything(statement: Statement) -> str | None:
    """How a statement names every resource (`"*"`, a whole-service ARN, NotResource)."""
    if statement.not_resource:
        shown = ", ".join(v.text() or "?" for v in statement.resources)
        return f"every resource except {shown} (NotResource)"
    for value in statement.resources:
        text = value.text() if isinstance(value, (Lit, Text)) else None
        if text and _matches_everything(text):
            return f'Resource "{text}"'
        if text and _EVERY_RESOURCE_ARN.match(_PLACEHOLDER.sub("x", text)):
            return f"every resource of the service ({text})"
    return None
