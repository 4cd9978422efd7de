"""WEB-REST-API: the dynamic part is API Gateway -> Lambda -> DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._api import api_functions, apis, tables_granted
from archlint.template import Resource
from archlint.values import Unknown


@rule(
    code="AL402",
    name="api-not-backed-by-lambda-and-dynamodb",
    requirement="WEB-REST-API",
    severity=ERROR,
    architectures=("serverless-website",),
    fix="Integrate the API's methods with a Lambda function whose execution role grants the "
    "DynamoDB actions it needs on the table (e.g. dynamodb:GetItem on !GetAtt Table.Arn).",
)
def api_not_backed_by_lambda_and_dynamodb(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Looks for an API Gateway REST or HTTP API whose method (route, or
    OpenAPI body) integration is a Lambda function of the template, whose
    execution role grants a DynamoDB data action (`GetItem`, `Query`,
    `PutItem`, ...) on a table or global table of the template. When there is
    none, each API without a Lambda integration and each integrated
    function's role without table access is reported, or the template if it
    has no API at all.

    ## Why is this bad?
    The blog's dynamic part is meant to be a managed, pay-per-request chain:
    API Gateway for HTTP, Lambda for code, DynamoDB for data. A missing link
    means the posts are served from somewhere that does not scale to zero or
    is not part of the stack at all.
    """
    found = apis(graph)
    if not found:
        yield Violation(
            None,
            "no API Gateway REST or HTTP API serves the dynamic part of the site",
            line=graph.template.root.line_of("Resources"),
        )
        return
    problems: list[Violation] = []
    for api in found:
        functions = api_functions(graph, api)
        if not functions:
            problems.append(
                Violation(
                    api, f"API {api.logical_id} integrates no Lambda function of the template"
                )
            )
        for function in functions:
            role = graph.execution_role(function)
            if role is not None and tables_granted(graph, role):
                return
            problems.append(_missing_access(graph, api, function, role))
    yield from problems


def _missing_access(
    graph: ResourceGraph, api: Resource, function: Resource, role: Resource | None
) -> Violation:
    where = f"function {function.logical_id} behind API {api.logical_id}"
    if role is None:
        shown = ", ".join(v.text() for v in graph.resolver.values_at(function.properties, "Role"))
        reason = f"its Role {shown or '(none)'} is not a role of the template"
        line = function.line_of("Role")
        return Violation(
            function,
            f"cannot tell whether {where} reaches DynamoDB: {reason}",
            line=line,
            undecided=Unknown(reason, line),
        )
    return Violation(
        role,
        f"role {role.logical_id} of {where} grants no DynamoDB data action on a table of the "
        "template",
        line=role.line_of("Policies"),
    )
