"""SLS: the serverless architectures run on no servers the user sizes and manages."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit

SERVERLESS_ARCHITECTURES = (
    "ingestion-pipeline",
    "paid-content",
    "serverless-website",
    "mobile-app",
)

_ELASTICACHE = "ElastiCache Serverless (AWS::ElastiCache::ServerlessCache)"
_OPENSEARCH = "OpenSearch Serverless (AWS::OpenSearchServerless::Collection)"

# Types that always mean servers, with the serverless alternative to suggest.
ALWAYS_SERVERS = {
    "AWS::EC2::Instance": "AWS Lambda or ECS on Fargate",
    "AWS::EC2::Host": "AWS Lambda or ECS on Fargate",
    "AWS::EC2::SpotFleet": "AWS Lambda or ECS on Fargate",
    "AWS::EC2::EC2Fleet": "AWS Lambda or ECS on Fargate",
    "AWS::EC2::LaunchTemplate": "AWS Lambda or ECS on Fargate",
    "AWS::AutoScaling::AutoScalingGroup": "AWS Lambda or ECS on Fargate",
    "AWS::AutoScaling::LaunchConfiguration": "AWS Lambda or ECS on Fargate",
    "AWS::EKS::Nodegroup": "EKS on Fargate (AWS::EKS::FargateProfile)",
    "AWS::ElasticBeanstalk::Environment": "AWS Lambda behind API Gateway, or App Runner",
    "AWS::ElasticBeanstalk::Application": "AWS Lambda behind API Gateway, or App Runner",
    "AWS::Lightsail::Instance": "AWS Lambda or App Runner",
    "AWS::Lightsail::Database": "DynamoDB or Aurora Serverless v2",
    "AWS::OpsWorks::Instance": "AWS Lambda or ECS on Fargate",
    "AWS::OpsWorks::Stack": "AWS Lambda or ECS on Fargate",
    "AWS::ElastiCache::CacheCluster": _ELASTICACHE,
    "AWS::ElastiCache::ReplicationGroup": _ELASTICACHE,
    "AWS::Redshift::Cluster": "Redshift Serverless (AWS::RedshiftServerless::Workgroup)",
    "AWS::EMR::Cluster": "EMR Serverless (AWS::EMRServerless::Application)",
    "AWS::EMR::InstanceGroupConfig": "EMR Serverless (AWS::EMRServerless::Application)",
    "AWS::EMR::InstanceFleetConfig": "EMR Serverless (AWS::EMRServerless::Application)",
    "AWS::OpenSearchService::Domain": _OPENSEARCH,
    "AWS::Elasticsearch::Domain": _OPENSEARCH,
    "AWS::MSK::Cluster": "MSK Serverless (AWS::MSK::ServerlessCluster)",
    "AWS::DocDB::DBInstance": "DocumentDB Elastic Clusters or DynamoDB",
    "AWS::AmazonMQ::Broker": "Amazon SQS and SNS",
}

# Types that are servers unless a property says otherwise.
CONFIGURABLE = (
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::Neptune::DBInstance",
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::ECS::CapacityProvider",
    "AWS::Batch::ComputeEnvironment",
)

FARGATE = ("FARGATE", "FARGATE_SPOT")


@rule(
    code="AL201",
    name="server-based-resource",
    requirement="SLS-NO-SERVERS",
    severity=ERROR,
    resource_types=(*ALWAYS_SERVERS, *CONFIGURABLE),
    architectures=SERVERLESS_ARCHITECTURES,
    fix="Replace the resource with its serverless counterpart named in the message.",
)
def server_based_resource(resource: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Flags resources that run on servers the user sizes, patches and pays for
    while idle: EC2 instances and fleets, Auto Scaling groups, launch
    templates, ECS on the EC2 launch type (also by default: a task
    definition without `RequiresCompatibilities`, a service with neither
    `LaunchType` nor `CapacityProviderStrategy` in a cluster of the template
    without a default strategy), EKS node groups, Elastic
    Beanstalk, Lightsail, Batch EC2 compute, provisioned RDS, ElastiCache,
    Redshift, EMR, OpenSearch and MSK. Their serverless forms (Aurora
    Serverless, ElastiCache Serverless, Redshift Serverless, EMR Serverless,
    OpenSearch Serverless, MSK Serverless, Fargate) pass; so does DAX.

    ## Why is this bad?
    The architecture is declared fully serverless: it should scale to zero,
    need no patching and no capacity planning. One provisioned cluster
    breaks all three promises and usually dominates the bill.
    """
    alternative = ALWAYS_SERVERS.get(resource.type)
    if alternative:
        yield Violation(
            resource,
            f"{resource.logical_id} ({resource.type}) runs on servers; "
            f"use {alternative} in a serverless architecture",
        )
        return
    yield from _configurable(resource, graph)


def _configurable(resource: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    resolver = graph.resolver
    props = resource.properties
    rtype = resource.type

    def texts(path: str) -> list[str | None]:
        return [v.text() for v in resolver.values_at(props, path)]

    if rtype in ("AWS::RDS::DBInstance", "AWS::Neptune::DBInstance"):
        classes = texts("DBInstanceClass")
        bad = [c for c in classes if c != "db.serverless"]
        if bad or not classes:
            shown = bad[0] if bad else "(none)"
            yield Violation(
                resource,
                f"{resource.logical_id} is a provisioned database instance (class {shown}); "
                "use DBInstanceClass db.serverless (Aurora Serverless v2) or DynamoDB",
                line=resource.line_of("DBInstanceClass"),
            )
    elif rtype == "AWS::RDS::DBCluster":
        modes = texts("EngineMode")
        serverless_v1 = bool(modes) and all(m == "serverless" for m in modes)
        serverless_v2 = "ServerlessV2ScalingConfiguration" in props and not graph.may_be_absent(
            props, "ServerlessV2ScalingConfiguration"
        )
        if "DBClusterInstanceClass" in props or not (serverless_v1 or serverless_v2):
            yield Violation(
                resource,
                f"{resource.logical_id} is a provisioned database cluster; add "
                "ServerlessV2ScalingConfiguration with db.serverless instances (Aurora "
                "Serverless v2)",
                line=resource.line,
            )
    elif rtype == "AWS::ECS::Service":
        for value in resolver.values_at(props, "LaunchType"):
            if value.text() == "EC2" or value.text() == "EXTERNAL":
                yield Violation(
                    resource,
                    f"{resource.logical_id} runs on the {value.text()} launch type; use FARGATE",
                    line=value.line or resource.line_of("LaunchType"),
                )
        for value in resolver.values_at(props, "CapacityProviderStrategy[*].CapacityProvider"):
            if isinstance(value, Lit) and value.text() not in FARGATE:
                yield Violation(
                    resource,
                    f"{resource.logical_id} uses capacity provider {value.text()}; use "
                    "FARGATE or FARGATE_SPOT",
                    line=value.line,
                )
        if graph.may_be_absent(props, "LaunchType") and graph.may_be_absent(
            props, "CapacityProviderStrategy"
        ):
            yield from _default_launch_type(resource, graph)
    elif rtype == "AWS::ECS::TaskDefinition":
        compat = [v.text() for v in resolver.values_at(props, "RequiresCompatibilities[*]")]
        if not compat or ("EC2" in compat and "FARGATE" not in compat):
            why = "requires" if compat else "sets no RequiresCompatibilities, so it requires"
            yield Violation(
                resource,
                f"{resource.logical_id} {why} the EC2 launch type; set "
                "RequiresCompatibilities to [FARGATE]",
                line=resource.line_of("RequiresCompatibilities") if compat else resource.line,
            )
    elif rtype == "AWS::ECS::CapacityProvider":
        yield Violation(
            resource,
            f"{resource.logical_id} is an Auto Scaling group capacity provider (EC2 servers); "
            "use the FARGATE capacity providers",
        )
    elif rtype == "AWS::Batch::ComputeEnvironment":
        for value in resolver.values_at(props, "ComputeResources.Type"):
            if value.text() not in FARGATE:
                yield Violation(
                    resource,
                    f"{resource.logical_id} is a Batch compute environment on "
                    f"{value.text()} instances; use Type FARGATE or FARGATE_SPOT",
                    line=value.line or resource.line_of("ComputeResources"),
                )


def _default_launch_type(service: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """A service with neither LaunchType nor CapacityProviderStrategy runs on its cluster's
    default capacity provider strategy, and without one on the EC2 launch type."""
    resolver = graph.resolver
    clusters = [
        graph.resource(k)
        for v in resolver.values_at(service.properties, "Cluster")
        for k in graph.targets_of(v)
        if graph.type_of(k) == "AWS::ECS::Cluster"
    ]
    if not clusters:
        return  # the default cluster or one of another stack: its strategy is not here
    for cluster in clusters:
        defaults = resolver.values_at(
            cluster.properties, "DefaultCapacityProviderStrategy[*].CapacityProvider"
        )
        for association in graph.resources("AWS::ECS::ClusterCapacityProviderAssociations"):
            props = association.properties
            if any(graph.refers_to(v, cluster) for v in resolver.values_at(props, "Cluster")):
                defaults += resolver.values_at(
                    props, "DefaultCapacityProviderStrategy[*].CapacityProvider"
                )
        if not defaults:
            yield Violation(
                service,
                f"{service.logical_id} sets neither LaunchType nor CapacityProviderStrategy "
                f"and cluster {cluster.logical_id} has no default capacity provider strategy, "
                "so ECS runs it on the EC2 launch type; set LaunchType: FARGATE",
                line=service.line,
            )
