"""ingestion-pipeline, reaction: the ingestion bucket -> SQS -> a consumer function."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import FALSE, origin_of, refers_to_type
from archlint.rules._ingestion import (
    BUCKET,
    FUNCTIONS,
    INGESTION,
    QUEUE,
    ingestion_firehoses,
    ingestion_queues,
)
from archlint.template import Resource
from archlint.values import Lit, Unknown

EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
QUEUE_CONFIGURATIONS = "NotificationConfiguration.QueueConfigurations[*]"
# The events Firehose's writes raise (PutObject, multipart uploads for large objects).
OBJECT_CREATED = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:CompleteMultipartUpload",
)


# -- AL604 ----------------------------------------------------------------------


@rule(
    code="AL604",
    name="ingestion-bucket-not-notifying-sqs",
    requirement="ING-S3-TO-SQS",
    severity=ERROR,
    resource_types=(BUCKET,),
    architectures=INGESTION,
    fix="Add NotificationConfiguration.QueueConfigurations with Event: s3:ObjectCreated:* and "
    "Queue: !GetAtt IngestQueue.Arn (plus a queue policy for s3.amazonaws.com).",
)
def ingestion_bucket_not_notifying_sqs(
    bucket: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    """## What it does
    For the ingestion bucket (the S3 destination of the delivery stream that
    reads the ingestion Kinesis stream), checks that
    `NotificationConfiguration.QueueConfigurations` has an entry whose
    `Queue` is an SQS queue of the template and whose `Event` is
    `s3:ObjectCreated:*` (or `:Put` / `:CompleteMultipartUpload`, the
    events Firehose's writes raise), in every `Fn::If` branch and parameter
    default. Notifying a function directly or over SNS does not count.

    ## Why is this bad?
    The queue decouples ingestion from processing: it absorbs bursts,
    retries failures and feeds the dead-letter queue. Without the
    notification every new object waits for someone to look, and a
    notification on other events (`ObjectRemoved`, `Copy`) never fires for
    what Firehose writes.
    """
    feeders = [
        f.logical_id
        for f in ingestion_firehoses(graph)
        if bucket.key in {b.key for b in graph.out(f, "delivers_to")}
    ]
    if not feeders:
        return
    resolver = graph.resolver
    name = bucket.logical_id
    problems: list[Violation] = []
    for config, _ in resolver.find(bucket.properties, QUEUE_CONFIGURATIONS):
        found: list[Violation] = []
        for value in resolver.values_at(config, "Queue"):
            if isinstance(value, Unknown):
                found.append(
                    Violation(
                        bucket,
                        f"cannot tell which queue bucket {name} notifies: {value.reason}",
                        line=value.line,
                        undecided=value,
                    )
                )
            elif not refers_to_type(graph, value, (QUEUE,)):
                found.append(
                    Violation(
                        bucket,
                        f"ingestion bucket {name} notifies {value.text()}{origin_of(value)}, "
                        "not an SQS queue of this template",
                        line=value.line,
                    )
                )
        for value in resolver.values_at(config, "Event"):
            if value.text() not in OBJECT_CREATED:
                found.append(
                    Violation(
                        bucket,
                        f"ingestion bucket {name} notifies its queue on {value.text()}"
                        f"{origin_of(value)}, not when Firehose creates objects "
                        "(s3:ObjectCreated:*)",
                        line=value.line,
                    )
                )
        if not found:
            return
        problems.extend(found)
    if problems:
        yield from problems
        return
    others = ", ".join(r.logical_id for r in graph.out(bucket, "notifies"))
    yield Violation(
        bucket,
        f"ingestion bucket {name} (written by {', '.join(feeders)}) notifies no SQS queue on "
        "s3:ObjectCreated:*" + (f"; it notifies {others} instead" if others else ""),
        line=bucket.line_of("NotificationConfiguration"),
    )


# -- AL605 ----------------------------------------------------------------------


@rule(
    code="AL605",
    name="ingestion-queue-without-consumer",
    requirement="ING-SQS-TO-LAMBDA",
    severity=ERROR,
    resource_types=(QUEUE,),
    architectures=INGESTION,
    fix="Add an AWS::Lambda::EventSourceMapping with EventSourceArn: !GetAtt Queue.Arn and "
    "FunctionName: !Ref ConsumerFunction (Enabled left true).",
)
def ingestion_queue_without_consumer(queue: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For each SQS queue the ingestion bucket notifies, checks that an
    `AWS::Lambda::EventSourceMapping` consumes it: its `EventSourceArn` is
    that queue and its `FunctionName` a function of the template in every
    `Fn::If` branch, and it is not disabled (`Enabled: false` in any branch
    or parameter default).

    ## Why is this bad?
    Notifications that nobody reads pile up until the retention period
    deletes them: the objects are ingested but never processed, reported or
    loaded into the warehouse, and no alarm says so.
    """
    if queue.key not in {q.key for q in ingestion_queues(graph)}:
        return
    resolver = graph.resolver
    mappings = [
        mapping
        for mapping in graph.resources(EVENT_SOURCE_MAPPING)
        if any(
            graph.refers_to(v, queue)
            for v in resolver.values_at(mapping.properties, "EventSourceArn")
        )
    ]
    problems: list[Violation] = []
    for mapping in mappings:
        found = list(_mapping_problems(mapping, queue, graph))
        if not found:
            return
        problems.extend(found)
    if problems:
        yield from problems
        return
    yield Violation(
        queue,
        f"no Lambda function consumes ingestion queue {queue.logical_id}: no "
        "AWS::Lambda::EventSourceMapping reads it",
        line=queue.line,
    )


def _mapping_problems(
    mapping: Resource, queue: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    resolver = graph.resolver
    name = mapping.logical_id
    props = mapping.properties
    for value in resolver.values_at(props, "Enabled"):
        if isinstance(value, Lit) and value.value in FALSE:
            yield Violation(
                mapping,
                f"event source mapping {name} of queue {queue.logical_id} can be disabled: "
                f"Enabled is {value.text()}{origin_of(value)}",
                line=value.line,
            )
    for value in resolver.values_at(props, "EventSourceArn"):
        if not graph.refers_to(value, queue):
            yield Violation(
                mapping,
                f"event source mapping {name} can read {value.text()}{origin_of(value)} "
                f"instead of ingestion queue {queue.logical_id}",
                line=value.line,
            )
    for value in resolver.values_at(props, "FunctionName"):
        if isinstance(value, Unknown):
            yield Violation(
                mapping,
                f"cannot tell which function {name} invokes: {value.reason}",
                line=value.line,
                undecided=value,
            )
        elif not refers_to_type(graph, value, FUNCTIONS):
            yield Violation(
                mapping,
                f"event source mapping {name} delivers queue {queue.logical_id} to "
                f"{value.text()}{origin_of(value)}, not a function of this template",
                line=value.line,
            )
