"""MOB-USER-FOLDER: a signed-in user's credentials reach only that user's S3 folder."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Text, Unknown, Value

SUB = "${cognito-identity.amazonaws.com:sub}"
COGNITO_IDENTITY = "cognito-identity.amazonaws.com"
AUD = "cognito-identity.amazonaws.com:aud"
AMR = "cognito-identity.amazonaws.com:amr"
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
BUCKET_ADMIN_ACTIONS = ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketAcl")
MATCHING_OPERATORS = (
    "StringEquals",
    "StringLike",
    "ForAnyValue:StringEquals",
    "ForAnyValue:StringLike",
)


@rule(
    code="AL503",
    name="identity-pool-role-escapes-user-folder",
    requirement="MOB-USER-FOLDER",
    severity=ERROR,
    architectures=("mobile-app",),
    fix="Trust only Federated cognito-identity.amazonaws.com with StringEquals "
    "cognito-identity.amazonaws.com:aud: !Ref IdentityPool and ForAnyValue:StringLike "
    "cognito-identity.amazonaws.com:amr: authenticated; grant objects only on "
    '!Sub "${Bucket.Arn}/${!cognito-identity.amazonaws.com:sub}/*" and s3:ListBucket only with '
    's3:prefix "${cognito-identity.amazonaws.com:sub}/*".',
)
def identity_pool_role_escapes_user_folder(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For each Cognito identity pool, checks its authenticated role (from the
    `IdentityPoolRoleAttachment`). Its trust policy must let only `Federated:
    cognito-identity.amazonaws.com` call `sts:AssumeRoleWithWebIdentity`,
    with a `StringEquals` condition that `cognito-identity.amazonaws.com:aud`
    is this identity pool and an `amr` condition requiring `authenticated`.
    Its policies must grant S3 object actions only on keys under a prefix
    containing `${cognito-identity.amazonaws.com:sub}/` (no wildcard before
    it: not `bucket/*`, not `"*"`, not `NotResource`), `s3:ListBucket` only
    with an `s3:prefix` condition under that prefix, and no bucket
    administration. Every statement and every `Fn::If` branch counts, so a
    second statement that widens the first is reported.

    ## Why is this bad?
    The identity pool hands these credentials to every signed-in user's
    phone. A grant on the whole bucket lets any user read, overwrite or
    delete every other user's files; a trust policy without the `aud` and
    `amr` conditions lets other identity pools, or guests, assume the role.
    """
    pools = list(graph.resources("AWS::Cognito::IdentityPool"))
    if not pools:
        yield Violation(
            None,
            "no Cognito identity pool gives signed-in users credentials for their own folder",
            line=graph.template.root.line_of("Resources"),
        )
    for pool in pools:
        roles = graph.out(pool, "authenticated_role")
        if not roles:
            yield _no_role(pool, graph)
        for role in roles:
            yield from _trust_problems(pool, role, graph)
            yield from _s3_problems(pool, role, graph)


def _no_role(pool: Resource, graph: ResourceGraph) -> Violation:
    for attachment in graph.into(pool, "ref"):
        if attachment.type == "AWS::Cognito::IdentityPoolRoleAttachment":
            for value in graph.resolver.values_at(attachment.properties, "Roles.authenticated"):
                reason = f"{value.text()} is not a role of the template"
                return Violation(
                    attachment,
                    f"cannot tell the authenticated role of identity pool {pool.logical_id}: "
                    f"{reason}",
                    line=value.line,
                    undecided=Unknown(reason, value.line),
                )
    return Violation(
        pool,
        f"identity pool {pool.logical_id} has no authenticated role (an "
        "IdentityPoolRoleAttachment with Roles.authenticated)",
    )


# -- trust policy ----------------------------------------------------------------------


def _trust_problems(pool: Resource, role: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    policy = graph.trust_policy(role)
    where = f"trust policy of {role.logical_id} (authenticated role of {pool.logical_id})"
    statements = list(policy.allow_statements("sts:AssumeRoleWithWebIdentity"))
    if not statements:
        yield Violation(
            role,
            f"the {where} allows no sts:AssumeRoleWithWebIdentity",
            line=role.line_of("AssumeRolePolicyDocument"),
        )
    for statement in statements:
        for reason, unknown in _trust_faults(statement, pool, graph):
            yield Violation(
                role,
                f"the {where} {reason}"
                if unknown is None
                else f"cannot tell whether the {where} {reason}",
                line=statement.line,
                undecided=unknown,
            )


def _trust_faults(
    statement: Statement, pool: Resource, graph: ResourceGraph
) -> Iterator[tuple[str, Unknown | None]]:
    """(reason, None) for each fault of a trust statement; (reason, Unknown) if undecidable."""
    principals = statement.principals or ()
    strangers = [
        p.text
        for p in principals
        if not (p.kind == "Federated" and p.value.text() == COGNITO_IDENTITY)
    ]
    if statement.not_principal or not principals or strangers:
        shown = ", ".join(strangers) or "everyone but the listed principals"
        yield f"lets {shown} assume it, not only Federated {COGNITO_IDENTITY}", None
    audiences = statement.condition_entries(AUD)
    if not audiences:
        yield f"has no {AUD} condition, so any identity pool's users can assume it", None
    for operator, value in _condition_values(audiences, graph):
        if operator != "StringEquals":
            yield f"tests {AUD} with {operator}, not StringEquals", None
        elif isinstance(value, Unknown):
            yield f"limits {AUD} to this pool ({value.reason})", value
        elif not graph.refers_to(value, pool):
            origin = f" ({value.origin})" if getattr(value, "origin", None) else ""
            yield (
                f"lets identity pool {value.text()}{origin} assume it, not {pool.logical_id}",
                None,
            )
    methods = statement.condition_entries(AMR)
    if not methods:
        yield f"has no {AMR} condition, so unauthenticated identities can assume it", None
    for operator, value in _condition_values(methods, graph):
        if operator not in MATCHING_OPERATORS or operator.startswith("ForAllValues"):
            yield f"tests {AMR} with {operator}", None
        elif isinstance(value, Unknown):
            yield f"requires {AMR} authenticated ({value.reason})", value
        elif value.text() != "authenticated":
            yield f"accepts {AMR} {value.text()}, not only authenticated", None


def _condition_values(
    entries: list[tuple[str, object]], graph: ResourceGraph
) -> Iterator[tuple[str, Value]]:
    resolver = graph.resolver
    for operator, raw in entries:
        for item, line in resolver.items(raw):
            for value in resolver.values(item, line):
                yield operator, value


# -- S3 grants -------------------------------------------------------------------------


def _s3_problems(pool: Resource, role: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    in_folder = False
    reported = False
    for policy in graph.role_policies(role):
        owner = graph.resource(policy.owner) if policy.owner else role
        for statement in policy.allow_statements():
            for reasons, unknown, folder in _statement_faults(statement, graph):
                in_folder = in_folder or folder
                if not reasons:
                    continue
                reported = True
                joined = "; ".join(reasons)
                if unknown is None:
                    message = (
                        f"{statement.label}, authenticated role of {pool.logical_id}, {joined}"
                    )
                else:
                    message = f"cannot tell whether {statement.label} stays in the folder: {joined}"
                yield Violation(owner, message, line=statement.line, undecided=unknown)
    if not in_folder and not reported:
        yield Violation(
            role,
            f"{role.logical_id} (authenticated role of {pool.logical_id}) grants no S3 object "
            f"access under {SUB}/: users have no folder of their own",
            line=role.line_of("Policies"),
        )


def _statement_faults(
    statement: Statement, graph: ResourceGraph
) -> Iterator[tuple[list[str], Unknown | None, bool]]:
    """(reasons, Unknown if undecidable, grants the user's folder) for each S3 resource."""
    objects = any(statement.matches_action(a) for a in OBJECT_ACTIONS)
    lists = statement.matches_action("s3:ListBucket")
    admin = any(statement.matches_action(a) for a in BUCKET_ADMIN_ACTIONS)
    if not (objects or lists or admin):
        return
    actions = ", ".join(statement.actions)
    if statement.not_action:
        actions = f"everything but {actions}"
    if statement.not_resource:
        yield [f"grants {actions} on every resource but its NotResource"], None, False
        return
    for value in statement.resources:
        kind = _s3_kind(value, graph)
        if kind is None:
            continue
        unknown = _unknown(value)
        if unknown:
            yield [f"resource {value.text()}: {unknown.reason}"], unknown, False
            continue
        text = value.text() or ""
        reasons: list[str] = []
        folder = False
        if objects and kind in ("any", "object"):
            if kind == "object" and _under_sub(text):
                folder = True
            else:
                reasons.append(f"grants {actions} on {text}, beyond the user's {SUB}/ prefix")
        if lists and kind in ("any", "bucket"):
            reasons.extend(_prefix_faults(statement, text, graph))
        if admin and kind in ("any", "bucket"):
            reasons.append(f"lets every user administer bucket {text} ({actions})")
        yield reasons, None, folder


def _prefix_faults(statement: Statement, text: str, graph: ResourceGraph) -> list[str]:
    entries = statement.condition_entries("s3:prefix")
    if not entries:
        return [f"grants s3:ListBucket on {text} without an s3:prefix condition under {SUB}/"]
    faults = []
    for operator, value in _condition_values(entries, graph):
        if operator not in MATCHING_OPERATORS:
            faults.append(f"tests s3:prefix with {operator}")
        elif not _under_sub(value.text() or "", slash=False):
            faults.append(f"lets users list s3:prefix {value.text()!r}, outside {SUB}/")
    return faults


def _s3_kind(value: Value, graph: ResourceGraph) -> str | None:
    """'any' for "*", 'bucket' for a bucket ARN, 'object' for keys in a bucket, None if not S3."""
    text = value.text() or ""
    if text == "*":
        return "any"
    index = text.find(":s3:::")
    buckets = [k for k in graph.targets_of(value) if graph.type_of(k) == "AWS::S3::Bucket"]
    if index < 0 and not buckets:
        return None
    rest = text[index + len(":s3:::") :] if index >= 0 else text
    return "object" if "/" in rest else "bucket"


def _under_sub(text: str, slash: bool = True) -> bool:
    """The user's prefix appears before any wildcard: `${Bucket.Arn}/${...:sub}/*`."""
    index = text.find(":s3:::")
    rest = text[index + len(":s3:::") :] if index >= 0 else text
    position = rest.find(SUB + ("/" if slash else ""))
    return position >= 0 and not any(c in rest[:position] for c in "*?")


def _unknown(value: Value) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Text):
        for part in value.parts:
            if isinstance(part, Unknown):
                return part
    return None
