"""How conformance gaps read: nouns for resource types, verbs for connections."""

from __future__ import annotations

import networkx as nx

from archlint.graph import ResourceGraph

NOUNS = {
    "AWS::ApiGateway::RestApi": "API Gateway API",
    "AWS::ApiGateway::DomainName": "API Gateway custom domain",
    "AWS::Route53::RecordSet": "Route 53 record",
    "AWS::Lambda::Function": "Lambda function",
    "AWS::CloudFront::OriginAccessControl": "origin access control or identity",
    "AWS::CloudFront::Distribution": "CloudFront distribution",
    "AWS::CloudFront::KeyGroup": "CloudFront key group",
    "AWS::DynamoDB::Table": "DynamoDB table",
    "AWS::AutoScaling::ScalingPolicy": "scaling policy or scheduled action",
    "AWS::AutoScaling::AutoScalingGroup": "Auto Scaling group",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer",
    "AWS::ElasticLoadBalancingV2::Listener": "listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "target group",
    "AWS::IAM::Role": "IAM role",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::SQS::Queue": "SQS queue",
    "AWS::SQS::QueuePolicy": "SQS queue policy",
    "AWS::SNS::Topic": "SNS topic",
    "AWS::Kinesis::Stream": "Kinesis data stream",
    "AWS::KinesisFirehose::DeliveryStream": "Firehose delivery stream",
    "AWS::IoT::TopicRule": "IoT topic rule",
    "AWS::Athena::WorkGroup": "Athena workgroup",
    "AWS::RedshiftServerless::Workgroup": "Redshift Serverless workgroup",
    "AWS::RedshiftServerless::Namespace": "Redshift Serverless namespace",
    "AWS::QuickSight::DataSource": "QuickSight data source",
    "AWS::QuickSight::Dashboard": "QuickSight dashboard",
    "AWS::Cognito::UserPool": "Cognito user pool",
    "AWS::Cognito::IdentityPool": "Cognito identity pool",
    "AWS::DAX::Cluster": "DAX cluster",
}
# How a connection reads: "<source> VERB <target>".
VERBS = {
    "origin": "serves content from",
    "origin_identity": "reaches its origin through",
    "key_group": "requires URLs signed by",
    "public_key": "trusts",
    "cache_policy": "caches with",
    "policy_of": "is the resource policy of",
    "notifies": "sends object events to",
    "event_source": "feeds (through an event source mapping)",
    "on_failure": "sends failed batches to",
    "permission_for": "lets a service invoke",
    "execution_role": "runs as",
    "dead_letter": "sends failed messages to",
    "authorizer": "authorizes requests with",
    "user_pool": "authenticates callers against",
    "integration": "is served by",
    "maps_to": "is mapped to",
    "alias_target": "resolves to",
    "subscription": "delivers to",
    "firehose_source": "is read by",
    "firehose_processor": "transforms records with",
    "delivers_to": "delivers to",
    "iot_action": "sends device data to",
    "query_results": "writes query results to",
    "targets": "registers its instances with",
    "scales": "scales",
    "listener": "is listened on by",
    "forwards_to": "forwards to",
    "service_role": "assumes",
    "grants": "is granted access to",
    "authenticated_role": "gives signed-in users",
    "unauthenticated_role": "gives guests",
    "client_of": "is a client of",
    "namespace": "stores data in",
}


def noun(type_name: str) -> str:
    if type_name in NOUNS:
        return NOUNS[type_name]
    parts = type_name.split("::")
    return " ".join(parts[1:]) if len(parts) == 3 else type_name


def article(text: str) -> str:
    return ("an " if text[:1].lower() in "aeiou" else "a ") + text


# -- skeletons -------------------------------------------------------------------------


def describe(
    graph: ResourceGraph, ours: nx.DiGraph, pattern: nx.DiGraph, mapping: dict[str, str]
) -> tuple[str, str | None, str, str]:
    """(what is missing, resource to fix, missing type, connection kind)."""

    def graph_has_edge(source: str, target: str, kinds: set[str]) -> bool:
        return ours.has_edge(source, target) and kinds <= ours.edges[source, target]["kinds"]

    def name(node: str) -> str:
        return graph.resource(mapping[node]).logical_id

    # From where the chain starts (an API, a topic rule) to where it ends.
    nodes = nx.topological_sort(pattern) if nx.is_directed_acyclic_graph(pattern) else pattern
    rank = {node: index for index, node in enumerate(nodes)}
    edges = sorted(pattern.edges(data=True), key=lambda e: (rank[e[0]], rank[e[1]], e[0], e[1]))
    for source, target, data in edges:
        if source in mapping and target in mapping:
            if graph_has_edge(mapping[source], mapping[target], data["kinds"]):
                continue
            kind = sorted(data["kinds"])[0]
            target_noun = noun(pattern.nodes[target]["type"])
            return (
                f"{name(source)} {VERBS.get(kind, kind)} no {target_noun} (such as {name(target)})",
                mapping[source],
                target_noun,
                kind,
            )
        kind = sorted(data["kinds"])[0]
        verb = VERBS.get(kind, kind)
        source_noun, target_noun = (
            noun(pattern.nodes[source]["type"]),
            noun(pattern.nodes[target]["type"]),
        )
        if source in mapping:
            return f"{name(source)} {verb} no {target_noun}", mapping[source], target_noun, kind
        if target in mapping:
            return f"no {source_noun} {verb} {name(target)}", mapping[target], source_noun, kind
    if not mapping and edges:
        source, target, data = edges[0]
        kind = sorted(data["kinds"])[0]
        source_noun = noun(pattern.nodes[source]["type"])
        target_noun = article(noun(pattern.nodes[target]["type"]))
        return f"no {source_noun} {VERBS.get(kind, kind)} {target_noun}", None, source_noun, kind
    missing = [noun(pattern.nodes[n]["type"]) for n in sorted(pattern) if n not in mapping]
    shown = " and no ".join(dict.fromkeys(missing)) or "nothing"
    return f"the template has no {shown}", None, missing[0] if missing else "", ""
