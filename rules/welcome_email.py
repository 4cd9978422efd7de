"""WEB-WELCOME-EMAIL: a new user in the users table triggers a welcome e-mail through SES."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource

TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
SEND_ACTIONS = ("ses:SendEmail", "ses:SendRawEmail")


@rule(
    code="AL405",
    name="no-welcome-email-on-new-user",
    requirement="WEB-WELCOME-EMAIL",
    severity=ERROR,
    architectures=("serverless-website",),
    fix="Give the users table a StreamSpecification (NEW_IMAGE), an AWS::Lambda::"
    "EventSourceMapping from !GetAtt UsersTable.StreamArn to a function, and allow "
    "ses:SendEmail in that function's execution role.",
)
def no_welcome_email_on_new_user(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Looks for the users table (a DynamoDB table or global table with a
    stream, or whose stream feeds a function; every table if none does) with
    a `StreamSpecification` in every `Fn::If` branch, an event source mapping
    from its stream to a Lambda function, and that function's execution role
    allowing `ses:SendEmail` or `ses:SendRawEmail`. When no table completes
    the chain, the first missing link of each candidate is reported.

    ## Why is this bad?
    Without the stream nothing learns that a user signed up; without the
    SES permission the function fails on every record and the stream retries
    it until the records expire. Either way no welcome e-mail is sent, and
    sending it from the API code instead couples sign-up to SES's latency.
    """
    # The users table is found from the graph, not from its name: a table with
    # a stream (in some branch) or whose stream feeds a function; every table
    # when none has one.
    tables = list(graph.resources(*TABLES))
    candidates = [
        t for t in tables if "StreamSpecification" in t.properties or graph.out(t, "event_source")
    ] or tables
    if not candidates:
        yield Violation(
            None,
            "no users table: no DynamoDB table whose stream can trigger the welcome e-mail",
            line=graph.template.root.line_of("Resources"),
        )
        return
    problems: list[Violation] = []
    for table in candidates:
        missing = list(_missing_link(table, graph))
        if not missing:
            return
        problems.extend(missing)
    yield from problems


def _missing_link(table: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    spec = graph.resolver.options(table.properties.get("StreamSpecification"))
    if None in spec:
        yield Violation(
            table,
            f"users table {table.logical_id} has no stream (StreamSpecification)"
            + (" in one Fn::If branch" if len(spec) > 1 else ""),
            line=table.line_of("StreamSpecification"),
        )
        return
    functions = graph.out(table, "event_source")
    if not functions:
        yield Violation(
            table,
            f"no Lambda event source mapping consumes the stream of users table {table.logical_id}",
            line=table.line_of("StreamSpecification"),
        )
        return
    for function in functions:
        role = graph.execution_role(function)
        if role is not None and any(graph.grants(role, action) for action in SEND_ACTIONS):
            return
    for function in functions:
        role = graph.execution_role(function)
        yield Violation(
            role or function,
            f"function {function.logical_id} consumes the stream of users table "
            f"{table.logical_id} but "
            + (
                f"its role {role.logical_id} allows neither ses:SendEmail nor ses:SendRawEmail"
                if role
                else "has no execution role in the template"
            ),
            line=role.line_of("Policies") if role else function.line_of("Role"),
        )
