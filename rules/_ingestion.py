"""The ingestion pipeline as the graph sees it: IoT -> Kinesis -> Firehose -> S3 -> SQS -> Lambda.

Each step is found from the one before it, so that every ingestion rule
judges the same stream, delivery stream, bucket, queue and consumer.
"""

from __future__ import annotations

from archlint.graph import ResourceGraph
from archlint.rules._common import unique
from archlint.template import Resource

INGESTION = ("ingestion-pipeline",)
TOPIC_RULE = "AWS::IoT::TopicRule"
KINESIS = "AWS::Kinesis::Stream"
FIREHOSE = "AWS::KinesisFirehose::DeliveryStream"
BUCKET = "AWS::S3::Bucket"
QUEUE = "AWS::SQS::Queue"
FUNCTIONS = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version")


def _next_step(
    graph: ResourceGraph, sources: list[Resource], kind: str, types: tuple[str, ...]
) -> list[Resource]:
    """What the resources of one step connect to by `kind`: the next step of the pipeline."""
    return unique([t for s in sources for t in graph.out(s, kind) if t.type in types])


def ingestion_streams(graph: ResourceGraph) -> list[Resource]:
    """Kinesis streams that IoT topic rules feed; every stream if no rule feeds one."""
    rules = list(graph.resources(TOPIC_RULE))
    return _next_step(graph, rules, "iot_action", (KINESIS,)) or list(graph.resources(KINESIS))


def ingestion_firehoses(graph: ResourceGraph) -> list[Resource]:
    """Delivery streams that read an ingestion stream."""
    return _next_step(graph, ingestion_streams(graph), "firehose_source", (FIREHOSE,))


def ingestion_buckets(graph: ResourceGraph) -> list[Resource]:
    """Buckets in the template that the ingestion delivery streams write to."""
    return _next_step(graph, ingestion_firehoses(graph), "delivers_to", (BUCKET,))


def ingestion_queues(graph: ResourceGraph) -> list[Resource]:
    """Queues that an ingestion bucket notifies."""
    return _next_step(graph, ingestion_buckets(graph), "notifies", (QUEUE,))


def consumers(graph: ResourceGraph) -> list[Resource]:
    """Functions that consume an ingestion queue through an event source mapping."""
    return _next_step(graph, ingestion_queues(graph), "event_source", FUNCTIONS)
