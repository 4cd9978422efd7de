"""X-NO-STATIC-CREDENTIALS: applications use roles and secret stores, not keys and literals."""

from __future__ import annotations

import re
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, INFO, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Text, Unknown

SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|TOKEN$",
    re.I,
)
# Names that carry a pointer to a secret, not the secret itself.
POINTER_NAME = re.compile(r"(_ARN|_ID|_NAME|_PARAM(ETER)?|_PATH|_URL|_REF)$", re.I)
ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):")
PLAIN_SSM_REFERENCE = re.compile(r"\{\{resolve:ssm:")

ENVIRONMENT_PATHS = {
    "AWS::Lambda::Function": ("Environment.Variables",),
    "AWS::Serverless::Function": ("Environment.Variables",),
    "AWS::ECS::TaskDefinition": ("ContainerDefinitions[*].Environment[*]",),
}


@rule(
    code="AL103",
    name="static-credentials",
    requirement="X-NO-STATIC-CREDENTIALS",
    severity=ERROR,
    resource_types=("AWS::IAM::AccessKey", "AWS::IAM::User", *ENVIRONMENT_PATHS),
    fix="Give the workload an execution role; keep secrets in Secrets Manager or SSM "
    "SecureString and pass only their ARN (or a {{resolve:secretsmanager:...}} reference).",
)
def static_credentials(resource: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Flags long-lived credentials in a template: `AWS::IAM::AccessKey`
    resources, IAM users (applications should assume roles), and
    environment variables of functions and containers that hold an AWS
    access key id or a literal value under a secret-looking name
    (`*SECRET*`, `*PASSWORD*`, `*PRIVATE_KEY*`, `*API_KEY*`, `*TOKEN`),
    including one that comes from a parameter's default (`NoEcho` or not),
    either branch of an `Fn::If`, or literals joined by `Fn::Join`/`Fn::Sub`,
    and one read from a plain `{{resolve:ssm:...}}` String parameter.
    `{{resolve:secretsmanager:...}}` and `{{resolve:ssm-secure:...}}` pass. A
    secret-looking variable whose value is known only at deploy time (a
    `NoEcho` parameter without a default) is not a literal in the template:
    it is reported as info, since the value still shows in plain text in the
    function's configuration.

    ## Why is this bad?
    Environment variables are shown in the console, returned by
    `GetFunctionConfiguration` and copied into every deployment artifact;
    access keys never expire and leak through logs and laptops. Roles give
    short-lived credentials; secret stores give audit, rotation and
    least-privilege access.
    """
    if resource.type == "AWS::IAM::AccessKey":
        yield Violation(
            resource,
            f"{resource.logical_id} creates a long-lived IAM access key",
            fix="Remove the access key; let the workload assume an IAM role.",
        )
        return
    if resource.type == "AWS::IAM::User":
        yield Violation(
            resource,
            f"{resource.logical_id} is an IAM user; applications should assume IAM roles "
            "(execution roles, Cognito identity pools) instead of signing in as users",
            fix="Replace the user with an IAM role that the application assumes.",
        )
        return
    for path in ENVIRONMENT_PATHS[resource.type]:
        for name, value in _variables(resource, graph, path):
            if isinstance(value, Unknown):
                if _secret_name(name):
                    yield Violation(
                        resource,
                        f"environment variable {name} of {resource.logical_id} holds a value "
                        f"known only at deploy time ({value.reason}); cannot tell whether it "
                        "is a plain-text secret, and whatever it is, it is shown in plain text "
                        "in the function's configuration",
                        line=value.line,
                        severity=INFO,
                    )
                continue
            problem = _problem(name, value)
            if problem:
                origin = f" (from the {value.origin})" if getattr(value, "origin", None) else ""
                yield Violation(
                    resource,
                    f"environment variable {name} of {resource.logical_id} {problem}{origin}",
                    line=value.line,
                )


def _variables(
    resource: Resource, graph: ResourceGraph, path: str
) -> Iterator[tuple[str, Lit | Text | Unknown]]:
    """(name, value) of each variable whose value is written in the template (or unknown)."""
    resolver = graph.resolver
    for node, _ in resolver.find(resource.properties, path):
        if path.endswith("[*]"):  # ECS: [{Name: ..., Value: ...}]
            names = [v.text() for v in resolver.values_at(node, "Name")]
            pairs = [(n, v) for n in names if n for v in resolver.values_at(node, "Value")]
        elif isinstance(node, dict):
            pairs = [
                (str(key), value)
                for key in node
                for value in resolver.values(
                    node[key], getattr(node, "line_of", lambda k: None)(key)
                )
            ]
        else:
            continue
        for name, value in pairs:
            if isinstance(value, (Lit, Text, Unknown)):
                yield name, value


def _secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not POINTER_NAME.search(name)


def _problem(name: str, value: Lit | Text) -> str | None:
    text = value.text()
    if not text:
        return None
    if ACCESS_KEY_ID.search(text):
        return "holds an AWS access key id"
    if DYNAMIC_REFERENCE.search(text):
        return None
    if PLAIN_SSM_REFERENCE.search(text) and _secret_name(name):
        return (
            "holds a secret read from a plain-text SSM String parameter ({{resolve:ssm:...}}), "
            "stored unencrypted; keep it in Secrets Manager or an SSM SecureString"
        )
    # A string assembled from references is not a literal secret.
    if isinstance(value, Lit) and _secret_name(name):
        return "holds a plain-text secret"
    return None
