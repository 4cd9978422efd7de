"""An IAM policy model shared by every rule.

Policy documents become `Statement`s with their effect, principals (with
`NotPrincipal` kept as such), actions (`NotAction` too), resources resolved
through `values`, conditions and the line of the statement. Questions are
asked of statements and policies (`allows`, `grants`), never by walking the
raw document in a rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from archlint.nodes import Map, line_of
from archlint.values import Lit, Resolver, Unknown, Value, intrinsic_name

PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")
# Intrinsics that build a policy document as a JSON string.
JSON_STRINGS = ("Fn::Sub", "Fn::Join", "Ref", "Fn::FindInMap")

# What the best-known AWS managed policies grant, for roles that attach them.
MANAGED_POLICY_GRANTS: dict[str, tuple[str, ...]] = {
    "AdministratorAccess": ("*",),
    "PowerUserAccess": ("*",),
    "AmazonS3FullAccess": ("s3:*",),
    "AmazonDynamoDBFullAccess": ("dynamodb:*",),
    "AWSLambda_FullAccess": ("lambda:*",),
    "AWSLambdaFullAccess": ("lambda:*",),
    "AmazonSQSFullAccess": ("sqs:*",),
    "AmazonSNSFullAccess": ("sns:*",),
    "AmazonSESFullAccess": ("ses:*",),
    "AmazonKinesisFullAccess": ("kinesis:*",),
    "AmazonAthenaFullAccess": ("athena:*",),
    "AmazonEC2FullAccess": ("ec2:*",),
    "IAMFullAccess": ("iam:*",),
    "SecretsManagerReadWrite": ("secretsmanager:*",),
    "AmazonSESReadOnlyAccess": ("ses:Get*", "ses:List*", "ses:Describe*"),
    "AWSLambdaBasicExecutionRole": (
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
    # The execution policies SAM attaches for stream, queue and VPC functions.
    "AWSLambdaDynamoDBExecutionRole": (
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
    "AWSLambdaKinesisExecutionRole": (
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:ListStreams",
        "kinesis:SubscribeToShard",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
    "AWSLambdaSQSQueueExecutionRole": (
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
}


@lru_cache(maxsize=4096)
def _action_regex(pattern: str) -> re.Pattern[str]:
    escaped = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(escaped + r"\Z")


def action_matches(pattern: str, action: str) -> bool:
    """IAM's matching: case-insensitive, `*` and `?` wildcards."""
    return _action_regex(pattern).match(action.lower()) is not None


@dataclass(frozen=True)
class Principal:
    kind: str  # "*", "AWS", "Service", "Federated", "CanonicalUser"
    value: Value

    @property
    def text(self) -> str:
        rendered = self.value.text() if self.kind != "*" else "*"
        return "*" if self.kind == "*" else f"{self.kind}: {rendered}"

    @property
    def is_everyone(self) -> bool:
        if self.kind == "*":
            return True
        return self.kind == "AWS" and isinstance(self.value, Lit) and self.value.value == "*"

    def is_service(self, service: str) -> bool:
        return self.kind == "Service" and self.value.text() == service


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[Value, ...]
    principals: tuple[Principal, ...] | None = None
    not_principal: bool = False
    not_action: bool = False
    not_resource: bool = False
    conditions: Map = field(default_factory=Map)
    line: int | None = None
    sid: str | None = None
    source: str = ""  # where the statement lives, e.g. "inline policy 'S3' of Role"
    unknown_actions: tuple[str, ...] = ()

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    def matches_action(self, action: str) -> bool:
        hit = any(action_matches(pattern, action) for pattern in self.actions)
        return not hit if self.not_action else hit

    def allows(self, action: str) -> bool:
        return self.allow and self.matches_action(action)

    def action_patterns_matching(self, prefix_pattern: str) -> list[str]:
        """The statement's own action patterns that a pattern like `s3:*` covers."""
        return [a for a in self.actions if action_matches(prefix_pattern, a)]

    @property
    def label(self) -> str:
        where = f"Sid '{self.sid}'" if self.sid else f"statement at line {self.line}"
        return f"{where} of {self.source}" if self.source else where

    @property
    def everyone(self) -> bool:
        """A grant to anybody: `Principal: "*"` / `{AWS: "*"}`."""
        return bool(self.principals) and any(p.is_everyone for p in self.principals or ())

    def condition_keys(self) -> set[str]:
        keys: set[str] = set()
        for operator in self.conditions.values():
            if isinstance(operator, dict):
                keys.update(str(k).lower() for k in operator)
        return keys

    def condition_entries(self, key: str) -> list[tuple[str, object]]:
        """(operator, raw value) pairs that test a condition key (case-insensitive)."""
        wanted = key.lower()
        out: list[tuple[str, object]] = []
        for operator, tests in self.conditions.items():
            if isinstance(tests, dict):
                for test_key, value in tests.items():
                    if str(test_key).lower() == wanted:
                        out.append((str(operator), value))
        return out


@dataclass
class Policy:
    """The statements of one policy document."""

    source: str
    statements: list[Statement]
    line: int | None = None
    # The resource whose text holds the statements (a role, or an attached
    # AWS::IAM::Policy): where a user goes to fix them.
    owner: str | None = None

    def allow_statements(self, action: str | None = None) -> Iterator[Statement]:
        for statement in self.statements:
            if statement.allow and (action is None or statement.matches_action(action)):
                yield statement


def parse_policy(
    resolver: Resolver,
    document: object,
    source: str,
    line: int | None = None,
    owner: str | None = None,
) -> Policy:
    """A policy document (possibly with intrinsics anywhere) as statements."""
    statements: list[Statement] = []
    candidates: list[object] = []
    line = line_of(document, line)
    for candidate in resolver.expand(document):
        if isinstance(candidate, dict) and intrinsic_name(candidate) == "Fn::ToJsonString":
            candidates.extend(resolver.expand(candidate["Fn::ToJsonString"]))
        elif isinstance(candidate, str) or intrinsic_name(candidate) in JSON_STRINGS:
            candidates.extend(resolver.json_documents(candidate, line))
        else:
            candidates.append(candidate)
    for candidate in candidates:
        if isinstance(candidate, Unknown):
            statements.append(
                Statement(
                    "Allow",
                    (),
                    (),
                    line=line,
                    source=source,
                    unknown_actions=(f"policy document given as a string: {candidate.reason}",),
                )
            )
            continue
        for statement_list in resolver.get(candidate, "Statement"):
            for raw, stmt_line in resolver.items(statement_list):
                if isinstance(raw, dict):
                    statements.extend(_statements(resolver, raw, stmt_line, source))
    return Policy(source, statements, line_of(document, line), owner)


def _statements(
    resolver: Resolver, raw: dict, line: int | None, source: str
) -> Iterator[Statement]:
    effects = {v.value for v in _values(resolver, raw, "Effect") if isinstance(v, Lit)}
    effect = "Allow" if "Allow" in effects or not effects else "Deny"
    not_action = "NotAction" in raw
    actions, unknown = _strings(resolver, raw, "NotAction" if not_action else "Action")
    not_resource = "NotResource" in raw
    resources = tuple(_values(resolver, raw, "NotResource" if not_resource else "Resource"))
    not_principal = "NotPrincipal" in raw
    principal_key = "NotPrincipal" if not_principal else "Principal"
    principals = (
        tuple(_principals(resolver, raw.get(principal_key))) if principal_key in raw else None
    )
    conditions = Map()
    for candidate in resolver.get(raw, "Condition"):
        if isinstance(candidate, dict):
            conditions.update(candidate)
    sids = [v.value for v in _values(resolver, raw, "Sid") if isinstance(v, Lit)]
    yield Statement(
        effect,
        tuple(actions),
        resources,
        principals,
        not_principal,
        not_action,
        not_resource,
        conditions,
        line_of(raw, line),
        str(sids[0]) if sids else None,
        source,
        tuple(unknown),
    )


def _values(resolver: Resolver, raw: dict, key: str) -> list[Value]:
    out: list[Value] = []
    for node in resolver.get(raw, key):
        if isinstance(node, list):
            for item, item_line in resolver.items(node):
                out.extend(resolver.values(item, item_line))
        else:
            out.extend(resolver.values(node))
    return out


def _strings(resolver: Resolver, raw: dict, key: str) -> tuple[list[str], list[str]]:
    strings: list[str] = []
    unknown: list[str] = []
    for value in _values(resolver, raw, key):
        text = value.text() if isinstance(value, Lit) else None
        if isinstance(text, str):
            strings.append(text)
        else:
            unknown.append(value.text() if not isinstance(value, Unknown) else value.reason)
    return strings, unknown


def _principals(resolver: Resolver, node: object) -> Iterator[Principal]:
    for candidate in resolver.expand(node):
        if isinstance(candidate, dict):
            for kind in PRINCIPAL_KINDS:
                for item in resolver.get(candidate, kind):
                    items = resolver.items(item) if isinstance(item, list) else [(item, None)]
                    for entry, entry_line in items:
                        for value in resolver.values(entry, entry_line):
                            yield Principal(kind, value)
        else:
            for value in resolver.values(candidate):
                if isinstance(value, Lit) and value.value == "*":
                    yield Principal("*", value)
                else:
                    yield Principal("AWS", value)


def managed_policy_statements(arn_values: Iterable[Value], source: str) -> list[Statement]:
    """Statements of well-known AWS managed policies attached by ARN."""
    out: list[Statement] = []
    for value in arn_values:
        text = value.text() or ""
        name = text.rsplit("/", 1)[-1]
        actions = MANAGED_POLICY_GRANTS.get(name)
        if actions and ":iam::aws:policy/" in text.replace("${AWS::Partition}", "aws"):
            out.append(
                Statement(
                    "Allow",
                    actions,
                    (Lit("*", value.line),),
                    line=value.line,
                    source=f"AWS managed policy {name} of {source}",
                )
            )
    return out
