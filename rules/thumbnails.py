"""WEB-THUMBNAILS: uploads trigger a function that can write the thumbnails to a bucket."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource

OBJECT_CREATED = "s3:ObjectCreated:"
FUNCTION = "AWS::Lambda::Function"


@rule(
    code="AL406",
    name="uploads-do-not-make-thumbnails",
    requirement="WEB-THUMBNAILS",
    severity=ERROR,
    architectures=("serverless-website",),
    fix="Add NotificationConfiguration.LambdaConfigurations with Event s3:ObjectCreated:* to the "
    "upload bucket, and allow s3:PutObject on the thumbnails bucket in the function's role.",
)
def uploads_do_not_make_thumbnails(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Looks for an S3 bucket whose `NotificationConfiguration.LambdaConfigurations`
    invoke a Lambda function of the template on `s3:ObjectCreated:*` (or a
    narrower `s3:ObjectCreated:` event) in every `Fn::If` branch, and whose
    function's execution role allows `s3:PutObject` somewhere, so it can
    store the thumbnails. When none does, each half-built trigger is
    reported, or the template if no bucket notifies a function. The
    invoke permission (X-S3-LAMBDA-PERMISSION, AL105) and the recursion
    guard (X-RECURSIVE-TRIGGER, AL107) are checked by their own rules.

    ## Why is this bad?
    Without the trigger uploaded pictures never get thumbnails and pages
    load full-size images; without write access the function fails on every
    upload and S3 retries it for nothing.
    """
    problems: list[Violation] = []
    for bucket in graph.resources("AWS::S3::Bucket"):
        for function, certain, line in _triggers(bucket, graph):
            role = graph.execution_role(function)
            writes = role is not None and bool(graph.grants(role, "s3:PutObject"))
            if certain and writes:
                return
            if not certain:
                problems.append(
                    Violation(
                        bucket,
                        f"bucket {bucket.logical_id} invokes {function.logical_id} on object "
                        "creation in only some Fn::If branches",
                        line=line,
                    )
                )
            elif not writes:
                problems.append(
                    Violation(
                        role or function,
                        f"function {function.logical_id}, triggered by uploads to "
                        f"{bucket.logical_id}, may write no object: "
                        + (
                            f"its role {role.logical_id} does not allow s3:PutObject"
                            if role
                            else "it has no execution role in the template"
                        ),
                        line=role.line_of("Policies") if role else function.line_of("Role"),
                    )
                )
        problems.extend(_other_events(bucket, graph))
    if problems:
        yield from problems
        return
    yield Violation(
        None,
        "no upload bucket invokes a Lambda function on s3:ObjectCreated:* to make thumbnails",
        line=graph.template.root.line_of("Resources"),
    )


def _configurations(bucket: Resource, graph: ResourceGraph) -> list[list[tuple[object, int]]]:
    """Every list of LambdaConfigurations the bucket can have."""
    resolver = graph.resolver
    variants = []
    for notification, _ in resolver.find(bucket.properties, "NotificationConfiguration"):
        if isinstance(notification, dict):
            variants += resolver.list_variants(notification.get("LambdaConfigurations"))
    return variants


def _functions(item: object, graph: ResourceGraph) -> list[Resource]:
    return [
        graph.resource(key)
        for value in graph.resolver.values_at(item, "Function")
        for key in sorted(graph.targets_of(value))
        if graph.type_of(key) == FUNCTION
    ]


def _on_create(item: object, graph: ResourceGraph) -> bool:
    events = [v.text() or "" for v in graph.resolver.values_at(item, "Event")]
    return bool(events) and all(e.startswith(OBJECT_CREATED) for e in events)


def _triggers(bucket: Resource, graph: ResourceGraph) -> list[tuple[Resource, bool, int | None]]:
    """(function, in every branch?, line) for each function invoked on object creation."""
    variants = _configurations(bucket, graph)
    seen: dict[str, tuple[Resource, int | None]] = {}
    counts: dict[str, int] = {}
    for entries in variants:
        keys = set()
        for item, line in entries:
            if _on_create(item, graph):
                for function in _functions(item, graph):
                    seen.setdefault(function.key, (function, line))
                    keys.add(function.key)
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    return [(f, counts[k] == len(variants), line) for k, (f, line) in seen.items()]


def _other_events(bucket: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """Lambda notifications on events other than object creation, when none is on creation."""
    if _triggers(bucket, graph):
        return
    for entries in _configurations(bucket, graph)[:1]:
        for item, _ in entries:
            for value in graph.resolver.values_at(item, "Event"):
                if not (value.text() or "").startswith(OBJECT_CREATED):
                    names = ", ".join(f.logical_id for f in _functions(item, graph)) or "?"
                    yield Violation(
                        bucket,
                        f"bucket {bucket.logical_id} invokes {names} on {value.text()}, not on "
                        "object creation",
                        line=value.line,
                    )
