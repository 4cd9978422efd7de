"""PAY-SIGNING-KEY-SECRET: the URL-signing function reads its private key from a secret store."""

from __future__ import annotations

import re
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._api import api_functions, apis
from archlint.template import Resource
from archlint.values import Lit, Text, Unknown, Value

PAID_CONTENT = ("paid-content",)
FUNCTION = "AWS::Lambda::Function"
SIGNING_TYPES = ("AWS::CloudFront::KeyGroup", "AWS::CloudFront::PublicKey")
SECRET_TYPES = ("AWS::SecretsManager::Secret", "AWS::SSM::Parameter")
READ_SECRET = ("secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters")
REFERENCE_KINDS = ("ref", "getatt", "sub")
# A PEM block that is not public: a private key of any format.
PEM_PRIVATE = re.compile(r"-----BEGIN (?!PUBLIC KEY|CERTIFICATE)[A-Z0-9 ]*-----")
PRIVATE_KEY_NAME = re.compile(r"PRIVATE_?KEY|(^|_)PEM(_|$)", re.I)
# Names that carry a pointer to the key, not the key itself.
POINTER_NAME = re.compile(r"(_ARN|_ID|_NAME|_PARAM(ETER)?|_PATH|_SECRET|_REF)$", re.I)
DYNAMIC_REFERENCE = "{{resolve:"


@rule(
    code="AL305",
    name="signing-key-not-in-secret-store",
    requirement="PAY-SIGNING-KEY-SECRET",
    severity=ERROR,
    architectures=PAID_CONTENT,
    fix="Store the PEM private key in an AWS::SecretsManager::Secret (or an SSM SecureString "
    "parameter), pass only its ARN/name to the function, and grant the function's role "
    "secretsmanager:GetSecretValue (ssm:GetParameter) on exactly that secret.",
)
def signing_key_not_in_secret_store(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Finds the functions that sign the video URLs: those whose environment or
    role refers to the CloudFront key group or public key, or else the
    functions the API integrates. Their environment variables must not hold
    the private key: a value with a private PEM block (`-----BEGIN ...
    PRIVATE KEY-----`), or a variable named like `*PRIVATE_KEY*` or `*_PEM`
    with a literal value, a parameter's value or a `{{resolve:...}}`
    reference (the key then sits in plain text in the
    function's configuration). Their execution role must allow
    `secretsmanager:GetSecretValue` or `ssm:GetParameter` on a secret or
    parameter, so the key is read at run time. Every `Fn::If` branch and
    parameter default counts.

    ## Why is this bad?
    Whoever holds the signing key can mint signed URLs for every video,
    forever: the paywall is gone. A key in the template or in an environment
    variable is copied into the template bucket, the console, deployment
    logs and `GetFunctionConfiguration` responses, and cannot be rotated
    without a redeployment.
    """
    signers = _signers(graph)
    if not signers:
        reason = (
            "no function refers to the key group or public key, and no API integrates a function"
        )
        line = graph.template.root.line_of("Resources")
        yield Violation(
            None,
            f"cannot tell which function signs the video URLs: {reason}",
            line=line,
            undecided=Unknown(reason, line),
        )
    for function in signers:
        yield from _key_in_environment(function, graph)
        yield from _no_secret_read(function, graph)


def _signers(graph: ResourceGraph) -> list[Resource]:
    """Functions whose environment or role names the key group / public key, else API ones."""
    found = []
    for function in graph.resources(FUNCTION):
        role = graph.execution_role(function)
        holders = [function, role] if role is not None else [function]
        if any(
            target.type in SIGNING_TYPES
            for holder in holders
            for kind in REFERENCE_KINDS
            for target in graph.out(holder, kind)
        ):
            found.append(function)
    if found:
        return found
    return list({f.key: f for api in apis(graph) for f in api_functions(graph, api)}.values())


def _key_in_environment(function: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    resolver = graph.resolver
    for variables, _ in resolver.find(function.properties, "Environment.Variables"):
        if not isinstance(variables, dict):
            continue
        for name in variables:
            line = variables.line_of(name) if hasattr(variables, "line_of") else None
            for value in resolver.values(variables[name], line):
                problem = _holds_key(str(name), value)
                if problem:
                    yield Violation(
                        function,
                        f"environment variable {name} of signing function "
                        f"{function.logical_id} {problem}",
                        line=value.line or line,
                    )


def _holds_key(name: str, value: Value) -> str | None:
    """Why a variable's value is the private key itself (None if it is not)."""
    text = value.text() if isinstance(value, (Lit, Text)) else None
    origin = f" (from the {value.origin})" if isinstance(value, Lit) and value.origin else ""
    if text and PEM_PRIVATE.search(text):
        return f"holds a PEM private key{origin}"
    if not PRIVATE_KEY_NAME.search(name) or POINTER_NAME.search(name):
        return None
    if isinstance(value, Lit) and value.origin and "parameter" in value.origin:
        # Whatever the default (even empty, NoEcho), the key is typed in at deploy time.
        return f"receives the private key from a template parameter ({value.origin})"
    if text and DYNAMIC_REFERENCE in text:
        return (
            "resolves the private key at deploy time, so it sits in plain text in the "
            "function's configuration"
        )
    if isinstance(value, Lit) and text:
        return f"holds the private key as a literal{origin}"
    if isinstance(value, Unknown) and value.reason.startswith("parameter "):
        return f"receives the private key from a template parameter ({value.reason})"
    return None


def _no_secret_read(function: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    role = graph.execution_role(function)
    if role is None:
        reason = (
            f"the execution role of signing function {function.logical_id} is not defined in "
            "this template"
        )
        line = function.line_of("Role")
        yield Violation(
            function,
            f"{reason}; cannot tell whether it reads the key from a secret store",
            line=line,
            undecided=Unknown(reason, line),
        )
        return
    for action in READ_SECRET:
        for statement in graph.grants(role, action):
            if statement.not_resource or any(_is_secret(v, graph) for v in statement.resources):
                return
    yield Violation(
        role,
        f"role {role.logical_id} of signing function {function.logical_id} may not read any "
        "secret (secretsmanager:GetSecretValue) or SSM parameter (ssm:GetParameter): the "
        "private key cannot come from Secrets Manager or SSM SecureString",
        line=role.line_of("Policies"),
    )


def _is_secret(value: Value, graph: ResourceGraph) -> bool:
    if any(graph.type_of(k) in SECRET_TYPES for k in graph.targets_of(value)):
        return True
    text = value.text() or ""
    return text == "*" or ":secret:" in text or ":parameter/" in text
