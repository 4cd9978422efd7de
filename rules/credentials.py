"""X-NO-STATIC-CREDENTIALS: applications use roles and secret stores, not keys and literals."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
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
    environment variables of functions and containers whose value is a
    secret, judged by the value: an AWS access key id, a PEM private key, a
    provider token (`ghp_...`, `sk_live_...`, `xoxb-...`), a secret-key-shaped
    (40 base64 characters) or high-entropy string, or a literal under a
    secret-looking name (`*SECRET*`, `*PASSWORD*`, `*PRIVATE_KEY*`,
    `*API_KEY*`, `*TOKEN`). The value may come from a parameter's default or
    allowed values (`NoEcho` or not), a mapping row of any environment,
    either branch of an `Fn::If`, or literals joined by `Fn::Join`/`Fn::Sub`;
    a plain `{{resolve:ssm:...}}` String parameter under a secret-looking
    name counts too. References, numbers, booleans, ARNs, URLs, paths and
    parameter or secret *names* are never secrets
    (`DB_PASSWORD_PARAM: /app/db/password` is how it should be done), and
    `{{resolve:secretsmanager:...}}` / `{{resolve:ssm-secure:...}}` pass. A
    secret-looking variable whose value is known only at deploy time (a
    `NoEcho` parameter without a default) is reported as info, since the
    value still shows in plain text in the function's configuration.

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
                        undecided=value,
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
    """Why a variable's value is a plain-text secret, judged by the value (None: it is not)."""
    text = value.text()
    if not text:
        return None
    if ACCESS_KEY_ID.search(text):
        return "holds an AWS access key id"
    if DYNAMIC_REFERENCE.search(text):
        return None
    if PEM_PRIVATE_KEY.search(text):
        return "holds a PEM private key"
    if PLAIN_SSM_REFERENCE.search(text) and _secret_name(name):
        return (
            "holds a secret read from a plain-text SSM String parameter ({{resolve:ssm:...}}), "
            "stored unencrypted; keep it in Secrets Manager or an SSM SecureString"
        )
    if not isinstance(value, Lit) or _not_a_secret(value):
        return None  # a string built from references, or a number, flag, ARN, URL, name
    if TOKEN_PREFIXES.match(text):
        return "holds an API token (its prefix names the provider)"
    if SECRET_KEY_SHAPE.match(text):
        return "holds a secret-key-shaped string (40 base64 characters, like an AWS secret key)"
    if _high_entropy(text):
        return "holds a high-entropy string that looks like a key or token"
    if _secret_name(name):
        return "holds a plain-text secret"
    return None


# A PEM block that is not public: a private key of any format.
PEM_PRIVATE_KEY = re.compile(r"-----BEGIN (?!PUBLIC KEY|CERTIFICATE)[A-Z0-9 ]*PRIVATE KEY-----")
# Tokens whose prefix names their provider (GitHub, Slack, Stripe, Google, GitLab, npm).
TOKEN_PREFIXES = re.compile(
    r"^(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|xox[abposr]-[\w-]{10,}|"
    r"[sprk]k_(live|test)_\w{16,}|AIza[\w-]{30,}|glpat-[\w-]{16,}|npm_[A-Za-z0-9]{30,})$"
)
# An AWS secret access key: 40 characters of base64 with upper, lower and digits.
SECRET_KEY_SHAPE = re.compile(r"^(?=[^a-z]*[a-z])(?=[^A-Z]*[A-Z])(?=\D*\d)[A-Za-z0-9/+]{40}$")
# Values that name or locate a secret rather than hold one.
_NOT_SECRET = re.compile(
    r"^(arn:|[a-z][a-z0-9+.-]*://|/|\$\{|[\w.-]+@[\w.-]+$)|"
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")


def _not_a_secret(value: Lit) -> bool:
    """Numbers, booleans, ARNs, URLs, paths and parameter names, UUIDs, e-mail addresses."""
    if isinstance(value.value, (bool, int, float)):
        return True
    text = (value.text() or "").strip()
    lowered = text.lower()
    return (
        lowered in ("true", "false", "yes", "no", "on", "off", "none", "null", "")
        or bool(_NUMBER.match(text))
        or bool(_NOT_SECRET.match(text))
        or " " in text
    )


def _high_entropy(text: str) -> bool:
    """A long base64 (or base64url) string of mixed case and digits, with the entropy of
    random key material; identifiers with dots, colons or words spelled out are not."""
    if len(text) < 24 or not BASE64.match(text):
        return False
    if not (any(c.islower() for c in text) and any(c.isupper() for c in text)):
        return False
    if not any(c.isdigit() for c in text):
        return False
    counts = {c: text.count(c) for c in set(text)}
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return entropy >= 4.2
