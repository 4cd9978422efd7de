"""ingestion-pipeline, collection: IoT Core -> Kinesis -> Firehose -> S3, near real time."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import TRUE, key_line, number, origin_of, refers_to_type, resources_line
from archlint.rules._ingestion import (
    BUCKET,
    FIREHOSE,
    INGESTION,
    KINESIS,
    TOPIC_RULE,
    ingestion_firehoses,
    ingestion_streams,
)
from archlint.template import Resource
from archlint.values import Lit, Ref, Unknown

S3_DESTINATIONS = ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration")
MAX_BUFFER_SECONDS = 60
DEFAULT_BUFFER_SECONDS = 300


# -- AL601 ----------------------------------------------------------------------


@rule(
    code="AL601",
    name="iot-not-sending-to-kinesis",
    requirement="ING-IOT-TO-KINESIS",
    severity=ERROR,
    architectures=INGESTION,
    fix="Add an enabled AWS::IoT::TopicRule with a Kinesis action whose StreamName is "
    "!Ref to the AWS::Kinesis::Stream of the template.",
)
def iot_not_sending_to_kinesis(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that at least one IoT Core topic rule sends device data to a
    Kinesis data stream defined in the template: an enabled
    `AWS::IoT::TopicRule` (`RuleDisabled` not true in any `Fn::If` branch)
    with a `Kinesis` action whose `StreamName` names a stream of the template
    in every branch (a parameter default, a literal name of a stream
    elsewhere or an `Fn::If` branch to one fails). When no topic rule
    qualifies, each near miss is reported where it must be edited; with no
    topic rule at all the template itself is reported.

    ## Why is this bad?
    The pipeline starts where devices publish: without a topic rule that
    puts their messages on the template's stream, nothing flows into
    Firehose, S3 and the reports, and the stack deploys "successfully" with
    no data ever arriving.
    """
    topic_rules = list(graph.resources(TOPIC_RULE))
    problems: list[Violation] = []
    for topic_rule in topic_rules:
        found = list(_topic_rule_problems(topic_rule, graph))
        if not found:
            return
        problems.extend(found)
    if not topic_rules:
        yield Violation(
            None,
            "no AWS::IoT::TopicRule sends device data to a Kinesis stream of the template",
            line=resources_line(graph),
        )
    yield from problems


def _topic_rule_problems(topic_rule: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    resolver = graph.resolver
    name = topic_rule.logical_id
    for value in resolver.values_at(topic_rule.properties, "TopicRulePayload.RuleDisabled"):
        if isinstance(value, Lit) and value.value in TRUE:
            yield Violation(
                topic_rule,
                f"topic rule {name} can be disabled: RuleDisabled is {value.text()}"
                f"{origin_of(value)}",
                line=value.line,
            )
    actions = resolver.find(topic_rule.properties, "TopicRulePayload.Actions[*]")
    kinesis = [(node, line) for node, line in actions if resolver.find(node, "Kinesis")]
    if not kinesis:
        kinds = sorted({str(k) for node, _ in actions if isinstance(node, dict) for k in node})
        yield Violation(
            topic_rule,
            f"topic rule {name} sends to {', '.join(kinds) or 'nothing'}, not to a Kinesis stream",
            line=topic_rule.line_of("TopicRulePayload", "Actions"),
        )
        return
    problems: list[Violation] = []
    for node, _ in kinesis:
        found = list(_stream_name_problems(topic_rule, node, graph))
        if not found:
            return
        problems.extend(found)
    yield from problems


def _stream_name_problems(
    topic_rule: Resource, action: object, graph: ResourceGraph
) -> Iterator[Violation]:
    name = topic_rule.logical_id
    for value in graph.resolver.values_at(action, "Kinesis.StreamName"):
        if isinstance(value, Unknown):
            yield Violation(
                topic_rule,
                f"cannot tell which stream topic rule {name} sends to: {value.reason}",
                line=value.line,
                undecided=value,
            )
        elif isinstance(value, Ref) and value.attribute and graph.type_of(value.target) == KINESIS:
            yield Violation(
                topic_rule,
                f"topic rule {name} gives StreamName as {value.text()}; the Kinesis action "
                f"needs the stream's name (!Ref {value.target})",
                line=value.line,
            )
        elif not refers_to_type(graph, value, (KINESIS,)):
            yield Violation(
                topic_rule,
                f"topic rule {name} sends to stream {value.text()}{origin_of(value)}, "
                "which is not a Kinesis stream of this template",
                line=value.line,
            )


# -- AL602 ----------------------------------------------------------------------


@rule(
    code="AL602",
    name="kinesis-not-delivered-to-s3",
    requirement="ING-KINESIS-TO-FIREHOSE",
    severity=ERROR,
    architectures=INGESTION,
    fix="Add a delivery stream with KinesisStreamSourceConfiguration reading the stream, an "
    "ExtendedS3DestinationConfiguration whose BucketARN is !GetAtt Bucket.Arn, and "
    "BufferingHints.IntervalInSeconds of 60 or less.",
)
def kinesis_not_delivered_to_s3(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that a Firehose delivery stream reads the ingestion Kinesis stream
    (the one the IoT topic rules feed) through
    `KinesisStreamSourceConfiguration`, delivers to an S3 bucket of the
    template (`BucketARN` of `ExtendedS3DestinationConfiguration` or
    `S3DestinationConfiguration`, in every `Fn::If` branch), and buffers at
    most 60 seconds: `BufferingHints.IntervalInSeconds` must be set (the
    default is 300 s) and no branch or parameter default may exceed 60.

    ## Why is this bad?
    Without the delivery stream the data stays in Kinesis and expires; with
    a bucket outside the template nothing downstream is notified; with the
    default 5-minute buffer the "real-time" pipeline reports data minutes
    late.
    """
    streams = ingestion_streams(graph)
    firehoses = ingestion_firehoses(graph)
    if not firehoses:
        yield from _no_firehose(streams, graph)
        return
    for firehose in firehoses:
        yield from _source_problems(firehose, graph)
        yield from _destination_problems(firehose, graph)


def _no_firehose(streams: list[Resource], graph: ResourceGraph) -> Iterator[Violation]:
    names = ", ".join(s.logical_id for s in streams) or "none in the template"
    others = list(graph.resources(FIREHOSE))
    for firehose in others:
        yield Violation(
            firehose,
            f"delivery stream {firehose.logical_id} does not read the ingestion Kinesis stream "
            f"({names}) through KinesisStreamSourceConfiguration",
            line=firehose.line_of("KinesisStreamSourceConfiguration")
            if "KinesisStreamSourceConfiguration" in firehose.properties
            else firehose.line_of("DeliveryStreamType"),
        )
    if others:
        return
    for stream in streams:
        yield Violation(
            stream,
            f"no Firehose delivery stream reads Kinesis stream {stream.logical_id}",
            line=stream.line,
        )
    if not streams:
        yield Violation(
            None,
            "no Firehose delivery stream reads a Kinesis stream of the template",
            line=resources_line(graph),
        )


def _source_problems(firehose: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    path = "KinesisStreamSourceConfiguration.KinesisStreamARN"
    for value in graph.resolver.values_at(firehose.properties, path):
        if isinstance(value, Unknown):
            yield Violation(
                firehose,
                f"cannot tell which stream {firehose.logical_id} reads: {value.reason}",
                line=value.line,
                undecided=value,
            )
        elif not refers_to_type(graph, value, (KINESIS,)):
            yield Violation(
                firehose,
                f"delivery stream {firehose.logical_id} can read {value.text()}"
                f"{origin_of(value)}, not the template's Kinesis stream",
                line=value.line,
            )


def _destination_problems(firehose: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    resolver = graph.resolver
    name = firehose.logical_id
    destinations = [
        (key, node, line)
        for key in S3_DESTINATIONS
        for node, line in resolver.find(firehose.properties, key)
    ]
    if not destinations:
        yield Violation(
            firehose,
            f"delivery stream {name} reads the ingestion stream but delivers to no S3 bucket",
            line=firehose.line,
        )
    for key, destination, _ in destinations:
        line = firehose.line_of(key)
        for value in resolver.values_at(destination, "BucketARN"):
            if isinstance(value, Unknown):
                yield Violation(
                    firehose,
                    f"cannot tell which bucket {name} delivers to: {value.reason}",
                    line=value.line,
                    undecided=value,
                )
            elif not refers_to_type(graph, value, (BUCKET,)):
                yield Violation(
                    firehose,
                    f"delivery stream {name} delivers to {value.text()}{origin_of(value)}, "
                    "not to a bucket of this template",
                    line=value.line,
                )
        yield from _buffering_problems(firehose, key, destination, line, graph)


def _buffering_problems(
    firehose: Resource, key: str, destination: object, line: int | None, graph: ResourceGraph
) -> Iterator[Violation]:
    resolver = graph.resolver
    name = firehose.logical_id
    intervals = resolver.values_at(destination, "BufferingHints.IntervalInSeconds")
    if not intervals:
        yield Violation(
            firehose,
            f"delivery stream {name} buffers up to {DEFAULT_BUFFER_SECONDS} s (the default): "
            f"{key}.BufferingHints.IntervalInSeconds is not set",
            line=key_line(destination, "BufferingHints", line),
        )
    for value in intervals:
        seconds = number(value)
        if seconds is None:
            reason = f"IntervalInSeconds is {value.text()}"
            yield Violation(
                firehose,
                f"cannot tell how long {name} buffers: {reason}",
                line=value.line,
                undecided=Unknown(reason, value.line),
            )
        elif seconds > MAX_BUFFER_SECONDS:
            yield Violation(
                firehose,
                f"delivery stream {name} buffers up to {value.text()} s{origin_of(value)} "
                f"before writing to S3; near real time needs at most {MAX_BUFFER_SECONDS} s",
                line=value.line,
            )
