"""What archlint knows about how AWS resources connect, as one declarative table.

Each `EdgeRow` says: a resource of `source_type` whose property at `to` (or
`frm`) names another resource is connected to it by an edge of `kind`. A new
fact about AWS is a new row here, not new code in a rule. `NAME_PROPERTIES`
says which property gives a resource its physical name, so literal names and
ARNs elsewhere find it.
"""

from __future__ import annotations

from dataclasses import dataclass

SELF = "."


@dataclass(frozen=True)
class EdgeRow:
    """`source_type`'s property at `to` (or `frm`) names a resource: an edge of `kind`.

    The edge runs from the resource found at `frm` (SELF: the resource
    itself) to the one found at `to`; `targets` restricts what counts, so
    that an integration URI finds the function in it and not the API.
    `deep` collects every reference below the path, not just the value.
    """

    source_type: str
    kind: str
    to: str
    frm: str = SELF
    targets: tuple[str, ...] = ()
    deep: bool = False


_CB = "DistributionConfig.CacheBehaviors[*]"
_DCB = "DistributionConfig.DefaultCacheBehavior"
_FUNCTION = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version")
_IOT = "TopicRulePayload.Actions[*]"
_USER_POOL = ("AWS::Cognito::UserPool",)
_FH = "AWS::KinesisFirehose::DeliveryStream"
_S3_DEST = ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration")

SEMANTIC_EDGES: tuple[EdgeRow, ...] = (
    # CloudFront
    EdgeRow("AWS::CloudFront::Distribution", "origin", "DistributionConfig.Origins[*].DomainName"),
    EdgeRow(
        "AWS::CloudFront::Distribution",
        "origin_identity",
        "DistributionConfig.Origins[*].S3OriginConfig.OriginAccessIdentity",
    ),
    EdgeRow(
        "AWS::CloudFront::Distribution",
        "origin_identity",
        "DistributionConfig.Origins[*].OriginAccessControlId",
    ),
    EdgeRow("AWS::CloudFront::Distribution", "key_group", f"{_DCB}.TrustedKeyGroups[*]"),
    EdgeRow("AWS::CloudFront::Distribution", "key_group", f"{_CB}.TrustedKeyGroups[*]"),
    EdgeRow("AWS::CloudFront::Distribution", "cache_policy", f"{_DCB}.CachePolicyId"),
    EdgeRow("AWS::CloudFront::Distribution", "cache_policy", f"{_CB}.CachePolicyId"),
    EdgeRow("AWS::CloudFront::KeyGroup", "public_key", "KeyGroupConfig.Items[*]"),
    # Resource policies
    EdgeRow("AWS::S3::BucketPolicy", "policy_of", "Bucket"),
    EdgeRow("AWS::SQS::QueuePolicy", "policy_of", "Queues[*]"),
    EdgeRow("AWS::SNS::TopicPolicy", "policy_of", "Topics[*]"),
    # S3 notifications
    EdgeRow(
        "AWS::S3::Bucket",
        "notifies",
        "NotificationConfiguration.LambdaConfigurations[*].Function",
        targets=_FUNCTION,
    ),
    *(
        EdgeRow("AWS::S3::Bucket", "notifies", f"NotificationConfiguration.{path}")
        for path in ("QueueConfigurations[*].Queue", "TopicConfigurations[*].Topic")
    ),
    # Lambda
    EdgeRow(
        "AWS::Lambda::EventSourceMapping", "event_source", "FunctionName", frm="EventSourceArn"
    ),
    EdgeRow(
        "AWS::Lambda::EventSourceMapping",
        "on_failure",
        "DestinationConfig.OnFailure.Destination",
        frm="FunctionName",
    ),
    EdgeRow("AWS::Lambda::Permission", "permission_for", "FunctionName"),
    EdgeRow("AWS::Lambda::Function", "execution_role", "Role"),
    EdgeRow("AWS::Lambda::Function", "dead_letter", "DeadLetterConfig.TargetArn"),
    EdgeRow("AWS::Lambda::Function", "in_subnet", "VpcConfig.SubnetIds[*]"),
    EdgeRow("AWS::SQS::Queue", "dead_letter", "RedrivePolicy.deadLetterTargetArn"),
    # IAM
    EdgeRow("AWS::IAM::Policy", "attached_to", "Roles[*]"),
    EdgeRow("AWS::IAM::ManagedPolicy", "attached_to", "Roles[*]"),
    EdgeRow("AWS::IAM::RolePolicy", "attached_to", "RoleName"),
    EdgeRow("AWS::IAM::Role", "managed_policy", "ManagedPolicyArns[*]"),
    EdgeRow("AWS::IAM::InstanceProfile", "instance_role", "Roles[*]"),
    # API Gateway
    EdgeRow("AWS::ApiGateway::Method", "authorizer", "AuthorizerId"),
    EdgeRow("AWS::ApiGateway::Method", "integration", "Integration.Uri", targets=_FUNCTION),
    EdgeRow("AWS::ApiGateway::Method", "api", "RestApiId"),
    EdgeRow("AWS::ApiGateway::Resource", "api", "RestApiId"),
    EdgeRow("AWS::ApiGateway::Stage", "api", "RestApiId"),
    EdgeRow("AWS::ApiGateway::Deployment", "api", "RestApiId"),
    EdgeRow("AWS::ApiGateway::Authorizer", "api", "RestApiId"),
    EdgeRow("AWS::ApiGateway::Authorizer", "user_pool", "ProviderARNs[*]"),
    EdgeRow("AWS::ApiGateway::RestApi", "integration", "Body", targets=_FUNCTION, deep=True),
    # An OpenAPI body's Cognito security schemes name their user pools.
    EdgeRow("AWS::ApiGateway::RestApi", "user_pool", "Body", targets=_USER_POOL, deep=True),
    EdgeRow("AWS::ApiGatewayV2::Authorizer", "api", "ApiId"),
    EdgeRow(
        "AWS::ApiGatewayV2::Authorizer",
        "user_pool",
        "JwtConfiguration.Issuer",
        targets=_USER_POOL,
    ),
    EdgeRow("AWS::ApiGatewayV2::Stage", "api", "ApiId"),
    EdgeRow("AWS::ApiGateway::BasePathMapping", "maps_to", "RestApiId", frm="DomainName"),
    EdgeRow("AWS::ApiGatewayV2::Integration", "integration", "IntegrationUri", targets=_FUNCTION),
    EdgeRow("AWS::ApiGatewayV2::Integration", "api", "ApiId"),
    EdgeRow("AWS::ApiGatewayV2::Route", "authorizer", "AuthorizerId"),
    EdgeRow("AWS::ApiGatewayV2::Route", "route_to", "Target"),
    EdgeRow("AWS::ApiGatewayV2::Route", "api", "ApiId"),
    EdgeRow("AWS::ApiGatewayV2::Api", "integration", "Body", targets=_FUNCTION, deep=True),
    # An HTTP API's OpenAPI body (SAM's HttpApi Auth) names its JWT issuers' user pools.
    EdgeRow("AWS::ApiGatewayV2::Api", "user_pool", "Body", targets=_USER_POOL, deep=True),
    # DNS
    EdgeRow("AWS::Route53::RecordSet", "alias_target", "AliasTarget.DNSName"),
    EdgeRow("AWS::Route53::RecordSet", "alias_target", "ResourceRecords[*]"),
    EdgeRow("AWS::Route53::RecordSetGroup", "alias_target", "RecordSets[*].AliasTarget.DNSName"),
    EdgeRow("AWS::Route53::RecordSetGroup", "alias_target", "RecordSets[*].ResourceRecords[*]"),
    EdgeRow("AWS::ApiGateway::BasePathMappingV2", "maps_to", "RestApiId", frm="DomainNameArn"),
    EdgeRow("AWS::ApiGatewayV2::ApiMapping", "maps_to", "ApiId", frm="DomainName"),
    # What runs behind a front door, and as which role (see ResourceGraph.services)
    EdgeRow("AWS::ApiGatewayV2::Api", "integration", "Target", targets=_FUNCTION),
    EdgeRow("AWS::ElasticLoadBalancingV2::TargetGroup", "routes_to", "Targets[*].Id"),
    EdgeRow("AWS::ECS::Service", "targets", "LoadBalancers[*].TargetGroupArn"),
    EdgeRow("AWS::ECS::Service", "task_definition", "TaskDefinition"),
    EdgeRow("AWS::ECS::TaskDefinition", "task_role", "TaskRoleArn"),
    EdgeRow("AWS::Lambda::Alias", "version_of", "FunctionName"),
    EdgeRow("AWS::Lambda::Version", "version_of", "FunctionName"),
    # SNS
    EdgeRow("AWS::SNS::Subscription", "subscription", "Endpoint", frm="TopicArn"),
    EdgeRow("AWS::SNS::Topic", "subscription", "Subscription[*].Endpoint"),
    # Streams and pipelines
    EdgeRow(_FH, "firehose_source", SELF, frm="KinesisStreamSourceConfiguration.KinesisStreamARN"),
    *(
        EdgeRow(
            _FH,
            "firehose_processor",
            f"{dest}.ProcessingConfiguration.Processors[*].Parameters[*].ParameterValue",
            targets=_FUNCTION,
        )
        for dest in ("ExtendedS3DestinationConfiguration", "HttpEndpointDestinationConfiguration")
    ),
    *(EdgeRow(_FH, "delivers_to", f"{dest}.BucketARN") for dest in _S3_DEST),
    EdgeRow("AWS::IoT::TopicRule", "iot_action", f"{_IOT}.Kinesis.StreamName"),
    EdgeRow("AWS::IoT::TopicRule", "iot_action", f"{_IOT}.Lambda.FunctionArn"),
    EdgeRow("AWS::IoT::TopicRule", "iot_action", f"{_IOT}.Firehose.DeliveryStreamName"),
    EdgeRow("AWS::IoT::TopicRule", "iot_action", f"{_IOT}.Sqs.QueueUrl"),
    EdgeRow("AWS::IoT::TopicRule", "iot_action", f"{_IOT}.Sns.TargetArn"),
    EdgeRow("AWS::IoT::TopicRule", "iot_action", f"{_IOT}.S3.BucketName"),
    EdgeRow("AWS::IoT::TopicRule", "iot_action", f"{_IOT}.DynamoDBv2.PutItem.TableName"),
    EdgeRow(
        "AWS::Athena::WorkGroup",
        "query_results",
        "WorkGroupConfiguration.ResultConfiguration.OutputLocation",
        targets=("AWS::S3::Bucket",),
    ),
    EdgeRow("AWS::RedshiftServerless::Workgroup", "namespace", "NamespaceName"),
    # Load balancing and fleets
    EdgeRow("AWS::AutoScaling::AutoScalingGroup", "targets", "TargetGroupARNs[*]"),
    # The newer attachment: TrafficSources (Type elbv2 names a target group).
    EdgeRow(
        "AWS::AutoScaling::AutoScalingGroup",
        "targets",
        "TrafficSources[*].Identifier",
        targets=("AWS::ElasticLoadBalancingV2::TargetGroup",),
    ),
    EdgeRow(
        "AWS::AutoScaling::AutoScalingGroup", "launch_template", "LaunchTemplate.LaunchTemplateId"
    ),
    EdgeRow(
        "AWS::AutoScaling::AutoScalingGroup",
        "launch_template",
        "MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId",
    ),
    EdgeRow("AWS::AutoScaling::AutoScalingGroup", "in_subnet", "VPCZoneIdentifier[*]"),
    EdgeRow("AWS::AutoScaling::ScalingPolicy", "scales", "AutoScalingGroupName"),
    EdgeRow("AWS::AutoScaling::ScheduledAction", "scales", "AutoScalingGroupName"),
    EdgeRow("AWS::CloudWatch::Alarm", "alarm_action", "AlarmActions[*]"),
    EdgeRow("AWS::ElasticLoadBalancingV2::Listener", "listener", SELF, frm="LoadBalancerArn"),
    EdgeRow(
        "AWS::ElasticLoadBalancingV2::Listener", "forwards_to", "DefaultActions[*].TargetGroupArn"
    ),
    EdgeRow(
        "AWS::ElasticLoadBalancingV2::Listener",
        "forwards_to",
        "DefaultActions[*].ForwardConfig.TargetGroups[*].TargetGroupArn",
    ),
    EdgeRow(
        "AWS::ElasticLoadBalancingV2::ListenerRule", "forwards_to", "Actions[*].TargetGroupArn"
    ),
    EdgeRow(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "forwards_to",
        "Actions[*].ForwardConfig.TargetGroups[*].TargetGroupArn",
    ),
    EdgeRow("AWS::ElasticLoadBalancingV2::ListenerRule", "rule_of", "ListenerArn"),
    EdgeRow("AWS::ElasticLoadBalancingV2::LoadBalancer", "security_group", "SecurityGroups[*]"),
    EdgeRow("AWS::ElasticLoadBalancingV2::LoadBalancer", "in_subnet", "Subnets[*]"),
    EdgeRow("AWS::ElasticLoadBalancingV2::LoadBalancer", "in_subnet", "SubnetMappings[*].SubnetId"),
    EdgeRow("AWS::EC2::SecurityGroupIngress", "ingress_of", "GroupId"),
    EdgeRow("AWS::EC2::Subnet", "in_vpc", "VpcId"),
    # Data stores
    EdgeRow("AWS::DAX::Cluster", "service_role", "IAMRoleARN"),
    EdgeRow("AWS::DAX::Cluster", "subnet_group", "SubnetGroupName"),
    EdgeRow("AWS::DAX::SubnetGroup", "in_subnet", "SubnetIds[*]"),
    EdgeRow("AWS::Cognito::UserPoolClient", "client_of", "UserPoolId"),
    EdgeRow(
        "AWS::Cognito::IdentityPoolRoleAttachment",
        "authenticated_role",
        "Roles.authenticated",
        frm="IdentityPoolId",
    ),
    EdgeRow(
        "AWS::Cognito::IdentityPoolRoleAttachment",
        "unauthenticated_role",
        "Roles.unauthenticated",
        frm="IdentityPoolId",
    ),
)

# Properties that give a resource a physical name, so that a literal ARN or
# name elsewhere (`arn:aws:s3:::${AWS::StackName}-uploads/*`) finds it.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::IAM::Role": "RoleName",
    # A role may attach a policy of the template by its literal ARN.
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::DAX::Cluster": "ClusterName",
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
    "AWS::Athena::WorkGroup": "Name",
    # A record's name is what a CloudFront origin or a client resolves through it.
    "AWS::Route53::RecordSet": "Name",
}
