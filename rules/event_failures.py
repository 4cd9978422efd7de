"""X-EVENT-FAILURES: events a function cannot process end up somewhere, not retried forever."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import WARNING, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Unknown, Value

QUEUE_TYPES = ("AWS::SQS::Queue",)
STREAM_TYPES = (
    "AWS::Kinesis::Stream",
    "AWS::Kinesis::StreamConsumer",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
)


@rule(
    code="AL108",
    name="event-source-without-failure-handling",
    requirement="X-EVENT-FAILURES",
    severity=WARNING,
    resource_types=("AWS::Lambda::EventSourceMapping",),
    fix="Give the queue a RedrivePolicy to a dead-letter queue; give stream mappings "
    "DestinationConfig.OnFailure.Destination (an SQS queue or SNS topic) and a bounded "
    "MaximumRetryAttempts.",
)
def event_source_without_failure_handling(
    mapping: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    """## What it does
    For each event source mapping, checks where failed events go. An SQS
    queue that feeds the function must have a `RedrivePolicy` (a dead-letter
    queue) in every `Fn::If` branch. A Kinesis or DynamoDB stream mapping
    must have a `DestinationConfig.OnFailure` destination or a bounded
    `MaximumRetryAttempts` (absent and `-1` mean "retry until the records
    expire"). A queue defined outside the template is reported as info.

    ## Why is this bad?
    Without a dead-letter queue a message that always fails is received
    again and again until its retention period ends, then silently lost.
    On a stream, a failing batch is retried forever and blocks its whole
    shard: every later record waits, up to a week, and then expires.
    """
    props = mapping.properties
    stream_checked = False
    for value in graph.resolver.values_at(props, "EventSourceArn"):
        kind, source = _source(value, graph)
        if kind is None and isinstance(value, Unknown):
            if "StartingPosition" not in props:
                yield Violation(
                    mapping,
                    f"cannot tell whether mapping {mapping.logical_id} reads a queue or a "
                    f"stream: EventSourceArn {value.reason}",
                    line=value.line,
                    undecided=value,
                )
                continue
            kind = "stream"  # only streams (and Kafka) take a StartingPosition
        if kind == "queue":
            yield from _queue_failures(mapping, source, value, graph)
        elif kind == "stream" and not stream_checked:
            stream_checked = True
            yield from _stream_failures(mapping, source, graph)


def _source(value: Value, graph: ResourceGraph) -> tuple[str | None, Resource | None]:
    """("queue" | "stream" | None, the source resource if it is in the template)."""
    for key in graph.targets_of(value):
        if graph.type_of(key) in QUEUE_TYPES:
            return "queue", graph.resource(key)
        if graph.type_of(key) in STREAM_TYPES:
            return "stream", graph.resource(key)
    text = value.text() or ""
    if ":sqs:" in text:
        return "queue", None
    if ":kinesis:" in text or ("dynamodb:" in text and "/stream/" in text):
        return "stream", None
    return None, None


def _queue_failures(
    mapping: Resource, queue: Resource | None, value: Value, graph: ResourceGraph
) -> Iterator[Violation]:
    if queue is None:
        yield Violation(
            mapping,
            f"mapping {mapping.logical_id} consumes queue {value.text()}, which is not defined "
            "in this template; cannot tell whether it has a dead-letter queue",
            line=value.line,
            undecided=Unknown(
                f"queue {value.text()}, which is not defined in this template", value.line
            ),
        )
    elif graph.may_be_absent(queue.properties, "RedrivePolicy"):
        values = graph.resolver.values_at(mapping.properties, "FunctionName")
        names = {k for v in values for k in graph.targets_of(v)}
        names = names or {v.text() or "?" for v in values}
        functions = ", ".join(sorted(names))
        conditional = " in every Fn::If branch" if "RedrivePolicy" in queue.properties else ""
        yield Violation(
            queue,
            f"queue {queue.logical_id} feeds function {functions} (mapping "
            f"{mapping.logical_id}) but has no RedrivePolicy{conditional}: messages that keep "
            "failing are retried until they expire, then lost",
            line=queue.line_of("RedrivePolicy") if conditional else None,
        )


def _stream_failures(
    mapping: Resource, stream: Resource | None, graph: ResourceGraph
) -> Iterator[Violation]:
    props = mapping.properties
    if not graph.may_be_absent(props, "DestinationConfig.OnFailure.Destination"):
        return
    retries = graph.resolver.values_at(props, "MaximumRetryAttempts")
    unbounded = [v for v in retries if isinstance(v, Lit) and str(v.value).strip() == "-1"]
    unknown = [v for v in retries if isinstance(v, Unknown)]
    source = stream.logical_id if stream else "its stream"
    conditional = " in every Fn::If branch" if "DestinationConfig" in props else ""
    if unbounded or graph.may_be_absent(props, "MaximumRetryAttempts"):
        shown = "is not set"
        if unbounded:
            origin = unbounded[0].origin
            shown = f"is {unbounded[0].text()}" + (f" ({origin})" if origin else "")
        yield Violation(
            mapping,
            f"stream mapping {mapping.logical_id} ({source}) has no DestinationConfig.OnFailure"
            f"{conditional} and its MaximumRetryAttempts {shown}: a failing batch is retried "
            "until its records expire and blocks the shard",
            line=unbounded[0].line
            if unbounded
            else mapping.line_of("DestinationConfig" if conditional else "MaximumRetryAttempts"),
        )
    elif unknown:
        yield Violation(
            mapping,
            f"cannot tell whether stream mapping {mapping.logical_id} bounds its retries: "
            f"MaximumRetryAttempts {unknown[0].reason}",
            line=unknown[0].line,
            undecided=unknown[0],
        )
