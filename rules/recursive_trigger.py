"""X-RECURSIVE-TRIGGER: a function fired by new objects must not write objects that fire it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Text, Unknown, Value

WRITE_ACTION = "s3:PutObject"
FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version")
# Notification kinds and the field naming their destination.
DESTINATIONS = {
    "LambdaConfigurations": "Function",
    "QueueConfigurations": "Queue",
    "TopicConfigurations": "Topic",
}
# Object-created events a function's PutObject/CopyObject/multipart upload fires.
WRITE_EVENTS = re.compile(r"^s3:ObjectCreated:(\*|Put|Copy|CompleteMultipartUpload)$")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


@rule(
    code="AL107",
    name="recursive-s3-trigger",
    requirement="X-RECURSIVE-TRIGGER",
    severity=ERROR,
    resource_types=("AWS::S3::Bucket",),
    fix="Write the results to another bucket, or to a prefix (suffix) that the notification's "
    "Filter excludes, and limit the role's s3:PutObject grant to exactly that.",
)
def recursive_s3_trigger(bucket: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For every object-created notification of a bucket (to a function, or to
    a queue or topic that a function consumes), checks the execution role of
    each triggered function: if any of its policies allows `s3:PutObject` on
    objects of that same bucket (by reference, by the bucket's physical name
    or ARN built with `Fn::Sub`/a parameter) under keys that the
    notification's prefix/suffix filter does not exclude, the function can
    trigger itself. Every `Fn::If` branch of the events, filters and grants
    counts. A grant on every bucket (`Resource: "*"`) cannot be decided and
    is reported as info.

    ## Why is this bad?
    Each object the function writes fires the notification again: the
    function runs in an endless loop (the classic thumbnail of a thumbnail),
    multiplying Lambda, S3 request and storage costs until someone notices.
    """
    resolver = graph.resolver
    reported: set[tuple[str, int]] = set()  # (function, statement): once per bucket
    for kind, field in DESTINATIONS.items():
        for item, _ in resolver.find(bucket.properties, f"NotificationConfiguration.{kind}[*]"):
            events = [v.text() or "" for v in resolver.values_at(item, "Event")]
            if not any(WRITE_EVENTS.match(e) for e in events):
                continue
            filters = _key_filters(item, graph)
            for value in resolver.values_at(item, field):
                for key in graph.targets_of(value):
                    for function in _triggered_functions(graph.resource(key), graph):
                        for violation in _writes_back(function, bucket, filters, graph):
                            seen = (function.key, violation.line or 0)
                            if seen not in reported:
                                reported.add(seen)
                                yield violation


def _triggered_functions(destination: Resource, graph: ResourceGraph) -> list[Resource]:
    """The functions a notification destination runs (through queues and subscriptions)."""
    if destination.type in FUNCTION_TYPES:
        functions = [destination]
    elif destination.type == "AWS::SQS::Queue":
        functions = graph.out(destination, "event_source")
    elif destination.type == "AWS::SNS::Topic":
        functions = [
            found
            for endpoint in graph.out(destination, "subscription")
            for found in _triggered_functions(endpoint, graph)
            if endpoint.type != "AWS::SNS::Topic"
        ]
    else:
        functions = []
    # An alias or version runs its function's code with its role.
    return [next(iter(graph.out(f, "version_of")), f) for f in functions]


def _writes_back(
    function: Resource, bucket: Resource, filters: list[tuple[str, str]], graph: ResourceGraph
) -> Iterator[Violation]:
    role = graph.execution_role(function)
    trigger = (
        f"function {function.logical_id} is triggered by object-created events of bucket "
        f"{bucket.logical_id}{_describe(filters)}"
    )
    if role is None:
        reason = "its execution role is not defined in this template"
        line = function.line_of("Role")
        yield Violation(
            function,
            f"{trigger}, but {reason}; cannot tell whether it writes to that bucket",
            line=line,
            undecided=Unknown(reason, line),
        )
        return
    for policy in graph.role_policies(role):
        owner = graph.resource(policy.owner) if policy.owner else role
        for statement in policy.allow_statements(WRITE_ACTION):
            grants = list(_object_keys(statement, bucket, graph))
            looping = [
                value
                for value, keys in grants
                if keys is not None and any(_may_match(keys, p, s) for p, s in filters)
            ]
            unsure = [value for value, keys in grants if keys is None]
            if looping:
                yield Violation(
                    owner,
                    f"{trigger}, and {statement.label} lets it write s3:PutObject to "
                    f"{looping[0].text()}: every object it writes triggers it again",
                    line=statement.line,
                )
            elif unsure:
                reason = f"s3:PutObject on {unsure[0].text() or '?'}"
                yield Violation(
                    owner,
                    f"{trigger}; cannot tell whether {statement.label} lets it write there: "
                    f"{reason}",
                    line=statement.line,
                    undecided=Unknown(reason, statement.line),
                )


def _object_keys(
    statement: Statement, bucket: Resource, graph: ResourceGraph
) -> Iterator[tuple[Value, str | None]]:
    """(resource value, object key pattern) of a statement's grants on the bucket's objects.

    The pattern is None when the value may or may not name the bucket (`*`,
    `arn:aws:s3:::*/*`, a bucket name known only at deploy time).
    """
    if statement.not_resource:
        yield Lit("NotResource"), None
        return
    for value in statement.resources:
        text = value.text() if isinstance(value, (Lit, Text)) else None
        if text == "*":
            yield value, None
            continue
        if not graph.refers_to(value, bucket):
            if text and "s3:::" in text and re.match(r"(\*|\$\{\?\})", text.split("s3:::", 1)[1]):
                yield value, None
            continue
        if text is None:  # the bucket's ARN itself: no object can be written
            continue
        rest = text.split("s3:::", 1)[1] if "s3:::" in text else _PLACEHOLDER.sub("", text, 1)
        name, slash, keys = rest.partition("/")
        if slash:
            yield value, keys
        elif name.endswith("*"):  # arn:aws:s3:::uploads* also covers uploads/...
            yield value, "*"


def _key_filters(item: object, graph: ResourceGraph) -> list[tuple[str, str]]:
    """Every (prefix, suffix) combination a notification's S3Key filter can take."""
    resolver = graph.resolver
    found: dict[str, list[str]] = {"prefix": [], "suffix": []}
    for rule_node, _ in resolver.find(item, "Filter.S3Key.Rules[*]"):
        names = [(v.text() or "").lower() for v in resolver.values_at(rule_node, "Name")]
        for name in names:
            if name in found:
                found[name].extend(
                    v.text() if isinstance(v, Lit) and v.text() else ""
                    for v in resolver.values_at(rule_node, "Value")
                )
    return [(p, s) for p in found["prefix"] or [""] for s in found["suffix"] or [""]]


def _may_match(pattern: str, prefix: str, suffix: str) -> bool:
    """Whether an object key matching an IAM resource pattern can start with `prefix` and
    end with `suffix` (`*`, `?` and `${...}` are wildcards)."""
    glob = _PLACEHOLDER.sub("*", pattern)
    pieces = re.split(r"[*?]", glob)
    if len(pieces) == 1:
        return glob.startswith(prefix) and glob.endswith(suffix)
    head, tail = pieces[0], pieces[-1]
    return (head.startswith(prefix) or prefix.startswith(head)) and (
        tail.endswith(suffix) or suffix.endswith(tail)
    )


def _describe(filters: list[tuple[str, str]]) -> str:
    shown = [
        " and ".join(part for part in (p and f"prefix '{p}'", s and f"suffix '{s}'") if part)
        for p, s in filters
    ]
    if not any(shown):
        return " (no prefix/suffix filter)"
    return " (filter " + " or ".join(s or "none" for s in shown) + ")"
