"""MOB-NO-APP-CREDENTIALS: nothing shipped inside the app works as a credential."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Unknown

WRITE_ACTIONS = (
    "s3:PutObject",
    "s3:DeleteObject",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
MACHINE_FLOWS = {"client_credentials"}


@rule(
    code="AL504",
    name="mobile-app-holds-credentials",
    requirement="MOB-NO-APP-CREDENTIALS",
    severity=ERROR,
    resource_types=("AWS::Cognito::UserPoolClient", "AWS::Cognito::IdentityPool"),
    architectures=("mobile-app",),
    fix="Set GenerateSecret: false on the app's user pool client; give guests "
    "(AllowUnauthenticatedIdentities) no write access, or turn guest access off.",
)
def mobile_app_holds_credentials(resource: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Adds the mobile-specific checks to X-NO-STATIC-CREDENTIALS (AL103, which
    flags IAM users and access keys). A Cognito user pool client of the app
    (any client except a machine-to-machine one whose `AllowedOAuthFlows`
    are only `client_credentials`) must not set `GenerateSecret: true`. An
    identity pool with `AllowUnauthenticatedIdentities: true` must not have
    an unauthenticated role that may write to S3 or DynamoDB (`PutObject`,
    `DeleteObject`, `PutItem`, `UpdateItem`, `DeleteItem`,
    `BatchWriteItem`). Every `Fn::If` branch counts.

    ## Why is this bad?
    Anything compiled into an app can be extracted from it: a client secret
    in a mobile binary is public, and once relied upon it gives a false
    sense of security. Guest credentials go to anyone who calls the identity
    pool; if they can write, anyone can fill or wipe the app's storage.
    """
    if resource.type == "AWS::Cognito::UserPoolClient":
        yield from _client_secret(resource, graph)
    else:
        yield from _guest_writes(resource, graph)


def _client_secret(client: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    resolver = graph.resolver
    flows = {v.text() for v in resolver.values_at(client.properties, "AllowedOAuthFlows[*]")}
    if flows and flows <= MACHINE_FLOWS:
        return
    for value in resolver.values_at(client.properties, "GenerateSecret"):
        if isinstance(value, Unknown):
            yield Violation(
                client,
                f"cannot tell whether app client {client.logical_id} has a secret: {value.reason}",
                line=value.line,
                undecided=value,
            )
        elif isinstance(value, Lit) and value.value in (True, "true", "True"):
            origin = f" ({value.origin})" if value.origin else ""
            yield Violation(
                client,
                f"app client {client.logical_id} sets GenerateSecret: true{origin}; a secret "
                "shipped in a mobile app is public",
                line=value.line,
            )


def _guest_writes(pool: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    values = graph.resolver.values_at(pool.properties, "AllowUnauthenticatedIdentities")
    if not any(isinstance(v, Lit) and v.value in (True, "true", "True") for v in values):
        return
    for role in graph.out(pool, "unauthenticated_role"):
        for policy in graph.role_policies(role):
            owner = graph.resource(policy.owner) if policy.owner else role
            for statement in policy.allow_statements():
                writes = [a for a in WRITE_ACTIONS if statement.matches_action(a)]
                if writes:
                    yield Violation(
                        owner,
                        f"identity pool {pool.logical_id} allows unauthenticated identities and "
                        f"{statement.label} lets its guest role {role.logical_id} write "
                        f"({', '.join(writes)})",
                        line=statement.line,
                    )
