"""X-LEAST-PRIVILEGE: no role may do everything, or everything in a service, everywhere."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource


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
    and `ManagedPolicy` resources, well-known AWS managed policies such as
    `AdministratorAccess`) for an Allow statement that grants `Action: "*"`,
    a whole service (`s3:*`) or everything but a few actions (`NotAction`)
    on `Resource: "*"`.

    ## Why is this bad?
    A compromised function or instance can then do anything its role can:
    read every bucket, delete every table, create users. Execution roles
    should name the few actions and resources the code really uses.
    """
    for policy in graph.role_policies(role):
        owner = graph.resource(policy.owner) if policy.owner else role
        for statement in policy.allow_statements():
            wildcard = _wildcard_actions(statement)
            if wildcard and _on_everything(statement):
                yield Violation(
                    owner,
                    f"{statement.label} lets role {role.logical_id} perform {wildcard} on "
                    'Resource "*"',
                    line=statement.line,
                )


def _wildcard_actions(statement: Statement) -> str | None:
    if statement.not_action:
        return "every action except " + ", ".join(statement.actions or ("none",))
    for action in statement.actions:
        if action == "*" or (action.endswith(":*") and action.count(":") == 1):
            return f"'{action}'"
    return None


def _on_everything(statement: Statement) -> bool:
    if statement.not_resource:
        return True
    return any(value.text() == "*" for value in statement.resources)
