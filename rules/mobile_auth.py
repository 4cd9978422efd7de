"""MOB-COGNITO-AUTH: app users sign in to a Cognito user pool and the API requires its tokens."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._api import USER_POOL, cognito_problems


@rule(
    code="AL502",
    name="mobile-api-without-cognito-authorizer",
    requirement="MOB-COGNITO-AUTH",
    severity=ERROR,
    architectures=("mobile-app",),
    fix="Add an AWS::Cognito::UserPool, an AWS::ApiGateway::Authorizer with Type "
    "COGNITO_USER_POOLS and ProviderARNs [!GetAtt UserPool.Arn], and set AuthorizationType: "
    "COGNITO_USER_POOLS with AuthorizerId on every method except OPTIONS.",
)
def mobile_api_without_cognito_authorizer(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the template has a Cognito user pool and that every API
    Gateway method except `OPTIONS` uses `AuthorizationType:
    COGNITO_USER_POOLS` with an `AuthorizerId` naming a `COGNITO_USER_POOLS`
    authorizer whose `ProviderARNs` are user pools of the template (an HTTP
    API route: a `JWT` authorizer whose issuer is such a pool), in every
    `Fn::If` branch. APIs defined by an OpenAPI `Body` (as SAM generates
    them) are checked operation by operation: every `security` alternative
    must name a Cognito (or Cognito-issued JWT) scheme; a quick-create HTTP
    API (`Target`) is open. The same check as PAY-COGNITO-AUTH.

    ## Why is this bad?
    A method with `NONE` (or an authorizer that trusts another pool) hands
    any caller on the internet the todo lists of every user, and the API
    function cannot tell users apart because there is no `sub` claim.
    """
    if not any(True for _ in graph.resources(USER_POOL)):
        yield Violation(
            None,
            "no Cognito user pool authenticates the app's users",
            line=graph.template.root.line_of("Resources"),
        )
    for problem in cognito_problems(graph):
        yield Violation(
            problem.resource,
            f"{problem.resource.logical_id} can be called without a Cognito user pool token: "
            f"{problem.reason}"
            if problem.decided
            else f"cannot tell whether {problem.resource.logical_id} requires a Cognito user "
            f"pool token: {problem.reason}",
            line=problem.line,
            undecided=problem.undecided,
        )
