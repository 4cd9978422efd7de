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


def ingestion_streams(graph: ResourceGraph) -> list[Resource]:
    """Kinesis streams that IoT topic rules feed; every stream if no rule feeds one."""
    fed = [
        stream
        for topic_rule in graph.resources(TOPIC_RULE)
        for stream in graph.out(topic_rule, "iot_action")
        if stream.type == KINESIS
    ]
    return unique(fed) or list(graph.resources(KINESIS))


def ingestion_firehoses(graph: ResourceGraph) -> list[Resource]:
    """Delivery streams that read an ingestion stream."""
    return unique(
        [
            firehose
            for stream in ingestion_streams(graph)
            for firehose in graph.out(stream, "firehose_source")
            if firehose.type == FIREHOSE
        ]
    )


def ingestion_buckets(graph: ResourceGraph) -> list[Resource]:
    """Buckets in the template that the ingestion delivery streams write to."""
    return unique(
        [
            bucket
            for firehose in ingestion_firehoses(graph)
            for bucket in graph.out(firehose, "delivers_to")
            if bucket.type == BUCKET
        ]
    )


def ingestion_queues(graph: ResourceGraph) -> list[Resource]:
    """Queues that an ingestion bucket notifies."""
    return unique(
        [
            queue
            for bucket in ingestion_buckets(graph)
            for queue in graph.out(bucket, "notifies")
            if queue.type == QUEUE
        ]
    )


def consumers(graph: ResourceGraph) -> list[Resource]:
    """Functions that consume an ingestion queue through an event source mapping."""
    return unique(
        [
            function
            for queue in ingestion_queues(graph)
            for function in graph.out(queue, "event_source")
            if function.type in FUNCTIONS
        ]
    )
