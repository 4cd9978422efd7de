"""PAY-COGNITO-AUTH, PAY-PREMIUM-TABLE: only signed-in premium users get video links."""

from __future__ import annotations

import re
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement
from archlint.rule import ERROR, Violation, rule
from archlint.rules._api import (
    METHOD,
    ROUTE,
    USER_POOL,
    api_functions,
    apis,
    cognito_problems,
)
from archlint.template import Resource
from archlint.values import Lit, Text, Unknown, Value

PAID_CONTENT = ("paid-content",)
TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PartiQLSelect",
)
# How a premium-users table tends to be named, to pick it among several read tables.
PREMIUM_NAME = re.compile(r"premium|subscri|entitle|member|user|customer", re.I)


@rule(
    code="AL301",
    name="link-api-without-cognito-authorizer",
    requirement="PAY-COGNITO-AUTH",
    severity=ERROR,
    architectures=PAID_CONTENT,
    fix="Add an AWS::Cognito::UserPool, an AWS::ApiGateway::Authorizer with Type "
    "COGNITO_USER_POOLS and ProviderARNs [!GetAtt UserPool.Arn], and set AuthorizationType: "
    "COGNITO_USER_POOLS with AuthorizerId on every method except OPTIONS.",
)
def link_api_without_cognito_authorizer(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the template has a Cognito user pool and that every API
    Gateway method except `OPTIONS` uses `AuthorizationType:
    COGNITO_USER_POOLS` with an `AuthorizerId` naming a `COGNITO_USER_POOLS`
    authorizer whose `ProviderARNs` are user pools of the template (an HTTP
    API route: a `JWT` authorizer whose issuer is such a pool). `NONE`,
    `AWS_IAM`, `CUSTOM` or no `AuthorizationType` is a violation, in either
    branch of an `Fn::If`. APIs defined by an OpenAPI `Body` (as SAM
    generates them) are checked operation by operation: every `security`
    alternative must name a Cognito (or Cognito-issued JWT) scheme.

    ## Why is this bad?
    The API hands out signed video URLs. A method that anyone can call
    without a user pool token gives the paid videos away, and the function
    behind it cannot look the caller up in the premium-users table because
    there is no `sub` claim to look up.
    """
    if not any(True for _ in graph.resources(USER_POOL)):
        yield Violation(
            None,
            "no AWS::Cognito::UserPool authenticates the users who ask for video links",
            line=graph.template.root.line_of("Resources"),
        )
    for problem in cognito_problems(graph):
        name = problem.resource.logical_id
        yield Violation(
            problem.resource,
            f"{name} hands out links without a Cognito user pool token: {problem.reason}"
            if problem.decided
            else f"cannot tell whether {name} requires a Cognito user pool token: {problem.reason}",
            line=problem.line,
            undecided=problem.undecided,
        )
    yield from _authorization_left_out(graph)


def _authorization_left_out(graph: ResourceGraph) -> Iterator[Violation]:
    """Methods and routes whose AuthorizationType an `Fn::If` branch leaves out (NONE)."""
    resolver = graph.resolver
    for resource in graph.resources(METHOD, ROUTE):
        props = resource.properties
        verb = "HttpMethod" if resource.type == METHOD else "RouteKey"
        verbs = [(v.text() or "").upper().split(" ")[0] for v in resolver.values_at(props, verb)]
        if "AuthorizationType" not in props or (verbs and set(verbs) == {"OPTIONS"}):
            continue
        if graph.may_be_absent(props, "AuthorizationType"):
            yield Violation(
                resource,
                f"{resource.logical_id} hands out links without a Cognito user pool token: an "
                "Fn::If branch leaves AuthorizationType out (NONE)",
                line=resource.line_of("AuthorizationType"),
            )


@rule(
    code="AL302",
    name="link-function-reads-other-tables",
    requirement="PAY-PREMIUM-TABLE",
    severity=ERROR,
    architectures=PAID_CONTENT,
    fix="Keep premium users in an AWS::DynamoDB::Table and give the link-issuing function's "
    "role dynamodb:GetItem (or Query) on that table's ARN only.",
)
def link_function_reads_other_tables(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the template has a DynamoDB table for premium users and that
    the role of each link-issuing function (every Lambda function an API
    Gateway API integrates) may read exactly one table of the template:
    `dynamodb:GetItem`, `BatchGetItem`, `Query`, `Scan` or `PartiQLSelect`
    on `Resource: "*"`, on a wildcard table ARN, on a table outside the
    template or on a second table is a violation. Where several tables are
    read, the premium table is the one whose name says so (premium, user,
    subscription ...) or else the first one granted. Inline, attached and
    managed policies count, in every `Fn::If` branch.

    ## Why is this bad?
    The link-issuing function is the only internet-facing code of the
    architecture. If it can read more than the premium-users table, a bug or
    an injected query in it exposes other data (payments, every user's
    profile); if it cannot read the table, it cannot tell premium users
    from the others.
    """
    resources_line = graph.template.root.line_of("Resources")
    if not any(True for _ in graph.resources(*TABLE_TYPES)):
        yield Violation(
            None, "no AWS::DynamoDB::Table holds the premium users", line=resources_line
        )
    functions = {f.key: f for api in apis(graph) for f in api_functions(graph, api)}
    if not functions:
        yield Violation(
            None,
            "no API Gateway API integrates a Lambda function that issues the video links",
            line=resources_line,
        )
    for function in functions.values():
        yield from _reads_of(function, graph)


def _reads_of(function: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    role = graph.execution_role(function)
    if role is None:
        reason = (
            f"the execution role of link-issuing function {function.logical_id} is not defined "
            "in this template"
        )
        line = function.line_of("Role")
        yield Violation(
            function,
            f"{reason}; cannot tell which tables it may read",
            line=line,
            undecided=Unknown(reason, line),
        )
        return
    grants = list(_table_reads(role, graph))
    tables = list(dict.fromkeys(t for *_, targets in grants for t in targets))
    if not tables and not grants:
        yield Violation(
            role,
            f"role {role.logical_id} of link-issuing function {function.logical_id} may read no "
            "DynamoDB table: it cannot check that the caller is a premium user",
        )
    preferred = [t for t in tables if PREMIUM_NAME.search(t)]
    premium = (preferred or tables)[:1]
    whose = f"role {role.logical_id} of link-issuing function {function.logical_id}"
    reported: set[int] = set()
    for owner, statement, value, targets in grants:
        others = sorted(set(targets) - set(premium))
        if isinstance(value, Unknown):
            problem = None
            yield Violation(
                owner,
                f"cannot tell which table {statement.label} lets {whose} read: {value.reason}",
                line=statement.line,
                undecided=value,
            )
        elif not targets:
            suffix = f" {premium[0]}" if premium else ""
            problem = f"read {_shown(value)}, not only the premium-users table{suffix}"
        elif others:
            problem = (
                f"read table {', '.join(others)} too; it should read only the premium-users "
                f"table {premium[0]}"
            )
        else:
            problem = None
        if problem and id(statement) not in reported:
            reported.add(id(statement))
            yield Violation(owner, f"{statement.label} lets {whose} {problem}", line=statement.line)


def _table_reads(
    role: Resource, graph: ResourceGraph
) -> Iterator[tuple[Resource, Statement, Value, list[str]]]:
    """(policy owner, statement, resource value, tables it names) of every DynamoDB read grant."""
    for policy in graph.role_policies(role):
        owner = graph.resource(policy.owner) if policy.owner else role
        for statement in policy.allow_statements():
            if not any(statement.matches_action(a) for a in READ_ACTIONS):
                continue
            values = (Lit("*", statement.line),) if statement.not_resource else statement.resources
            for value in values:
                targets = [k for k in graph.targets_of(value) if graph.type_of(k) in TABLE_TYPES]
                text = value.text() if isinstance(value, (Lit, Text)) else ""
                if targets or isinstance(value, Unknown) or text == "*" or ":dynamodb:" in text:
                    yield owner, statement, value, targets


def _shown(value: Value) -> str:
    text = value.text() or "?"
    if text == "*":
        return 'every table (Resource "*")'
    origin = f" ({value.origin})" if isinstance(value, Lit) and value.origin else ""
    if "*" in text.rsplit(":", 1)[-1]:
        return f"every table matching {text}{origin}"
    return f"{text}{origin}, a table outside this template"
