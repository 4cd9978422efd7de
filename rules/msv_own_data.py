"""MSV-OWN-DATA: each DynamoDB table is written by one service only."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement, action_matches
from archlint.rule import WARNING, Violation, rule
from archlint.template import Resource

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)


@rule(
    code="AL803",
    name="table-written-by-several-services",
    requirement="MSV-OWN-DATA",
    severity=WARNING,
    architectures=("microservices",),
    fix="Let one service own the table and write it; other services ask that service "
    "(its API) or react to its events (DynamoDB stream, SNS, SQS) and keep their own data.",
)
def table_written_by_several_services(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For every DynamoDB table, finds the services (an API Gateway API or load
    balancer and the functions behind it) whose functions' roles may write
    it: `PutItem`, `UpdateItem`, `DeleteItem`, `BatchWriteItem` or a PartiQL
    write, through wildcards (`dynamodb:*`, `Resource: "*"`, `table/*`),
    `Fn::Sub` ARNs, table names (parameter defaults too), managed policies and
    every `Fn::If` branch of every statement. A worker function behind no
    front door that drains a queue only one service uses belongs to it. When
    the writers belong to more than one service, each granting statement is
    reported.

    ## Why is this bad?
    A table written by two services is a hidden contract between them: one
    cannot change its schema, keys or consistency rules, or move to another
    store, without breaking the other, and neither owns the data's
    integrity. Each service should own its data and share it through its
    API or events.
    """
    services = graph.services()
    for table in graph.resources(*TABLE_TYPES):
        writes = [
            (service, member, statement, policy_owner)
            for service in services
            for member in service.members
            for role in graph.roles_of(member)
            for policy_owner, statement in _write_statements(role, table, graph)
        ]
        writers = {member.key for _, member, *_ in writes}
        if any(writers <= {m.key for m in s.members} for s in services):
            continue  # one service owns every writer (or nobody writes)
        names = sorted({s.name for s, *_ in writes})
        seen: set[tuple[str, int | None]] = set()
        for service, member, statement, owner in writes:
            if (owner.key, statement.line) in seen:
                continue
            seen.add((owner.key, statement.line))
            yield Violation(
                owner,
                f"table {table.logical_id} is written by services {', '.join(names)}: "
                f"{statement.label} gives {member.logical_id} (service {service.name}) "
                f"{_write_actions(statement)} on it",
                line=statement.line,
            )


def _write_statements(
    role: Resource, table: Resource, graph: ResourceGraph
) -> Iterator[tuple[Resource, Statement]]:
    for policy in graph.role_policies(role):
        owner = graph.resource(policy.owner) if policy.owner else role
        for statement in policy.allow_statements():
            if any(statement.matches_action(a) for a in WRITE_ACTIONS) and graph.covers(
                statement, table
            ):
                yield owner, statement


def _write_actions(statement: Statement) -> str:
    if statement.not_action:
        return "every action except " + ", ".join(statement.actions)
    written = [a for a in statement.actions if any(action_matches(a, w) for w in WRITE_ACTIONS)]
    return ", ".join(written)
