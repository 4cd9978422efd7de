"""The resource graph every rule reads: built once per template.

Nodes are resources (keyed by logical id). Edges carry a `kind`:

* syntactic: `ref`, `getatt`, `sub`, `depends_on`, from every intrinsic;
* semantic: one row of `SEMANTIC_EDGES` each (CloudFront origin -> bucket,
  bucket -> notified function, queue -> consuming function, ...), so a new
  fact about AWS is a new row, not new code in a rule;
* `grants`: role -> resource for each allowed statement of its policies,
  with the actions on the edge.

Rules ask questions through the small API at the bottom (`out`, `into`,
`role_policies`, `resource_policies`, `refers_to`, `grants`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

import networkx as nx

from archlint.iam import Policy, Statement, managed_policy_statements, parse_policy
from archlint.template import Resource, Template
from archlint.values import Lit, Resolver, Text, Value, intrinsic_name, is_no_value, refs_in

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
    EdgeRow(
        "AWS::AutoScaling::AutoScalingGroup", "launch_template", "LaunchTemplate.LaunchTemplateId"
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
    "AWS::DAX::Cluster": "ClusterName",
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
    "AWS::Athena::WorkGroup": "Name",
}

# Splits an ARN or URL into the names it may contain, keeping `${AWS::X}` whole.
_NAME_TOKENS = re.compile(r"[:/](?![^{]*\})")
# A bucket's virtual-hosted endpoint names the bucket: `NAME.s3.amazonaws.com`,
# `NAME.s3.REGION.amazonaws.com`, `NAME.s3-website-REGION.amazonaws.com`,
# `NAME.s3.dualstack.REGION.amazonaws.com`, `${AWS::URLSuffix}` for the suffix.
_S3_HOST = re.compile(
    r"^(?P<name>.+)\.s3(?:-website|-accelerate)?(?:[.-](?:[a-z0-9-]+|\$\{[^}]*\}))*"
    r"\.(?:amazonaws\.com(?:\.cn)?|\$\{AWS::URLSuffix\})\.?$",
    re.I,
)

POLICY_RESOURCE_TYPES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
}

# What a client calls a service through.
FRONT_DOOR_TYPES = (
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGatewayV2::Api",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
)
# Which role a service's code runs as: the edges (kinds, step by step) from the
# compute to its role. An instance names its profile by plain reference.
_NAMES = ("ref", "getatt")
RUNS_AS: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::Lambda::Function": (("execution_role",),),
    "AWS::EC2::Instance": (_NAMES, ("instance_role",)),
    "AWS::AutoScaling::AutoScalingGroup": (("launch_template",), _NAMES, ("instance_role",)),
    "AWS::ECS::Service": (("task_definition",), ("task_role",)),
}
# What a function's role must be allowed to read its event source (see _add_event_source_grants).
EVENT_SOURCE_READS = {
    "AWS::DynamoDB::Table": "dynamodb:GetRecords",
    "AWS::DynamoDB::GlobalTable": "dynamodb:GetRecords",
    "AWS::Kinesis::Stream": "kinesis:GetRecords",
    "AWS::SQS::Queue": "sqs:ReceiveMessage",
}
# Where a service hands work to its own workers.
_WORK_QUEUES = ("AWS::SQS::Queue", "AWS::Kinesis::Stream")


@dataclass(eq=False)
class Service:
    """A microservice: a front door and what runs and lives behind it.

    `members`: the functions and targets the front door sends requests to
    (API integrations, in the Body or in `AWS::ApiGateway::Method` /
    `AWS::ApiGatewayV2::Integration` resources; load balancer listener ->
    target group -> Lambda/instance targets, Auto Scaling groups, ECS
    services), plus the functions behind no front door that consume a queue
    or stream only this service's roles use. `roles`: what the members run
    as. `resources`: what those roles are granted (tables, queues, topics).
    """

    front_door: Resource
    members: list[Resource]
    roles: list[Resource]
    resources: list[Resource]

    @property
    def name(self) -> str:
        return self.front_door.logical_id

    def has(self, resource: Resource) -> bool:
        """Whether a resource runs inside the service: one of its members or their roles."""
        return any(r.key == resource.key for r in (*self.members, *self.roles))


class ResourceGraph:
    """A template's resources and how they connect."""

    def __init__(self, template: Template, architectures: tuple[str, ...] = ()) -> None:
        self.template = template
        # The architectures the template is checked against (declared + --architecture).
        self.architectures = architectures
        self.resolver = Resolver(template)
        self.g = nx.MultiDiGraph()
        for key, resource in template.resources.items():
            self.g.add_node(key, type=resource.type, resource=resource)
        self._names = self._physical_names()
        self._add_syntactic_edges()
        self._add_semantic_edges()
        self._add_grants()

    # -- building ---------------------------------------------------------------

    def _physical_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for key, resource in self.template.resources.items():
            prop = NAME_PROPERTIES.get(resource.type)
            if prop and prop in resource.properties:
                values = self.resolver.values(resource.properties[prop])
                if len(values) == 1 and isinstance(values[0], (Lit, Text)):
                    name = values[0].text()
                    if name:
                        names.setdefault(name, key)
        return names

    def _add_syntactic_edges(self) -> None:
        for key, resource in self.template.resources.items():
            for target, kind, line in _references(resource.properties):
                target_key = self._key(target)
                if target_key is not None:
                    self.g.add_edge(key, target_key, kind=kind, line=line)
            for dependency in resource.depends_on:
                target_key = self._key(dependency)
                if target_key is not None:
                    self.g.add_edge(key, target_key, kind="depends_on", line=resource.line)

    def _key(self, logical_id: str) -> str | None:
        return logical_id if logical_id in self.template.resources else None

    def _add_semantic_edges(self) -> None:
        rows_by_type: dict[str, list[EdgeRow]] = {}
        for row in SEMANTIC_EDGES:
            rows_by_type.setdefault(row.source_type, []).append(row)
        for key, resource in self.template.resources.items():
            for row in rows_by_type.get(resource.type, ()):
                sources = (
                    [(key, resource.line)]
                    if row.frm == SELF
                    else self._found(resource, row.frm, ())
                )
                if not sources:
                    continue
                if row.to == SELF:
                    targets = [(key, resource.line)]
                else:
                    targets = self._found(resource, row.to, row.targets, row.deep)
                for source, _ in sources:
                    for target, line in targets:
                        if source != target:
                            self.g.add_edge(source, target, kind=row.kind, via=key, line=line)

    def _found(
        self, resource: Resource, path: str, types: tuple[str, ...], deep: bool = False
    ) -> list[tuple[str, int | None]]:
        out: list[tuple[str, int | None]] = []
        for node, line in self.resolver.find(resource.properties, path):
            if deep:
                keys = {t for t, _, _ in _references(node)}
                found = [(k, line) for k in map(self._key, keys) if k is not None]
            else:
                found = [
                    (k, line) for v in self.resolver.values(node, line) for k in self.targets_of(v)
                ]
            out.extend((k, ln) for k, ln in found if not types or self.type_of(k) in types)
        return out

    def targets_of(self, value: Value) -> set[str]:
        """Resources a value refers to: by reference, or by physical name or ARN."""
        found = {ref.target for ref in refs_in(value)}
        text = value.text() if isinstance(value, (Lit, Text)) else None
        if text and self._names:
            for token in _NAME_TOKENS.split(text):
                key = self._names.get(token.rstrip("*")) or self._names.get(token)
                if key is not None:
                    found.add(key)
                host = _S3_HOST.match(token)
                key = self._names.get(host.group("name")) if host else None
                if key is not None and self.type_of(key) == "AWS::S3::Bucket":
                    found.add(key)
        return found

    def _add_grants(self) -> None:
        for role in self.resources("AWS::IAM::Role"):
            for policy in self.role_policies(role):
                for statement in policy.allow_statements():
                    for value in statement.resources:
                        for target in self.targets_of(value):
                            self.g.add_edge(
                                role.key,
                                target,
                                kind="grants",
                                actions=statement.actions,
                                line=statement.line,
                            )
        self._add_event_source_grants()

    def _add_event_source_grants(self) -> None:
        """A wildcard grant that lets a function's role read its event source grants that source.

        Lambda polls a stream or queue with the function's execution role. SAM
        (and many templates) allow that through the `AWSLambda*ExecutionRole`
        managed policies on `Resource: "*"`, which names no resource and so
        makes no `grants` edge above; the source the mapping reads is what it
        grants in practice.
        """
        for source, function, data in list(self.g.edges(data=True)):
            action = EVENT_SOURCE_READS.get(self.type_of(source))
            if data["kind"] != "event_source" or action is None:
                continue
            target = self.resource(source)
            for role in self.out(self.resource(function), "execution_role"):
                if any(t.key == source for t in self.out(role, "grants")):
                    continue
                for statement in self.grants(role, action, target):
                    self.g.add_edge(
                        role.key,
                        source,
                        kind="grants",
                        actions=statement.actions,
                        line=statement.line,
                    )

    # -- questions ------------------------------------------------------------

    def resource(self, key: str) -> Resource:
        return self.g.nodes[key]["resource"]

    def type_of(self, key: str) -> str:
        return self.g.nodes[key]["type"] if key in self.g else ""

    def resources(self, *types: str) -> Iterator[Resource]:
        return self.template.of_type(*types) if types else iter(self.template.resources.values())

    def out(self, resource: Resource, kind: str) -> list[Resource]:
        """Resources this one points to with edges of `kind`."""
        return _unique(
            self.resource(t)
            for _, t, data in self.g.out_edges(resource.key, data=True)
            if data["kind"] == kind
        )

    def into(self, resource: Resource, kind: str) -> list[Resource]:
        """Resources that point to this one with edges of `kind`."""
        return _unique(
            self.resource(s)
            for s, _, data in self.g.in_edges(resource.key, data=True)
            if data["kind"] == kind
        )

    def edges_out(self, resource: Resource, kind: str) -> list[tuple[Resource, dict]]:
        return [
            (self.resource(t), data)
            for _, t, data in self.g.out_edges(resource.key, data=True)
            if data["kind"] == kind
        ]

    def edges_in(self, resource: Resource, kind: str) -> list[tuple[Resource, dict]]:
        return [
            (self.resource(s), data)
            for s, _, data in self.g.in_edges(resource.key, data=True)
            if data["kind"] == kind
        ]

    def items_referring(
        self, resource: Resource, path: str, field: str, target: Resource
    ) -> list[tuple[object, int | None]]:
        """Items at `path` of a resource whose `field` refers to `target`.

        E.g. the origins of a distribution that point at a bucket:
        `items_referring(dist, "DistributionConfig.Origins[*]", "DomainName", bucket)`.
        """
        return [
            (item, line)
            for item, line in self.resolver.find(resource.properties, path)
            if any(self.refers_to(v, target) for v in self.resolver.values_at(item, field))
        ]

    def refers_to(self, value: Value, resource: Resource) -> bool:
        return resource.key in self.targets_of(value)

    def target_groups_of(self, load_balancer: Resource) -> list[Resource]:
        """Target groups a load balancer forwards to, through its listeners and their rules."""
        found: list[Resource] = []
        for listener in self.out(load_balancer, "listener"):
            found.extend(self.out(listener, "forwards_to"))
            for listener_rule in self.into(listener, "rule_of"):
                found.extend(self.out(listener_rule, "forwards_to"))
        return _unique(found)

    def execution_role(self, function: Resource) -> Resource | None:
        roles = self.out(function, "execution_role")
        return roles[0] if roles else None

    def role_policies(self, role: Resource) -> list[Policy]:
        """Inline, attached and well-known managed policies of a role."""
        return self._role_policies.get(role.key, [])

    @cached_property
    def _role_policies(self) -> dict[str, list[Policy]]:
        result: dict[str, list[Policy]] = {}
        resolver = self.resolver
        for role in self.resources("AWS::IAM::Role"):
            policies: list[Policy] = []
            for node, line in resolver.find(role.properties, "Policies[*]"):
                names = resolver.get(node, "PolicyName")
                name = names[0] if names and isinstance(names[0], str) else "?"
                for document in resolver.get(node, "PolicyDocument"):
                    source = f"inline policy '{name}' of {role.logical_id}"
                    policies.append(parse_policy(resolver, document, source, line, role.key))
            arns = resolver.values_at(role.properties, "ManagedPolicyArns[*]")
            managed = managed_policy_statements(arns, role.logical_id)
            if managed:
                source = f"managed policies of {role.logical_id}"
                policies.append(Policy(source, managed, None, role.key))
            result[role.key] = policies
        for policy_resource in self.resources(
            "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"
        ):
            for role in self.out(policy_resource, "attached_to"):
                if role.type == "AWS::IAM::Role":
                    result.setdefault(role.key, []).append(self.policy_document(policy_resource))
        for role in self.resources("AWS::IAM::Role"):
            for attached in self.out(role, "managed_policy"):
                if attached.type == "AWS::IAM::ManagedPolicy":
                    result[role.key].append(self.policy_document(attached))
        return result

    def policy_document(self, resource: Resource) -> Policy:
        """The policy document of a policy resource (IAM, bucket, queue or topic policy)."""
        key = POLICY_RESOURCE_TYPES.get(resource.type, "PolicyDocument")
        document = resource.properties.get(key)
        return parse_policy(
            self.resolver, document, resource.logical_id, resource.line_of(key), resource.key
        )

    def trust_policy(self, role: Resource) -> Policy:
        """The role's AssumeRolePolicyDocument: who may assume it, under which conditions."""
        key = "AssumeRolePolicyDocument"
        return parse_policy(
            self.resolver,
            role.properties.get(key),
            f"trust policy of {role.logical_id}",
            role.line_of(key),
            role.key,
        )

    def resource_policies(self, resource: Resource) -> list[tuple[Resource, Policy]]:
        """Bucket/queue/topic policies that apply to a resource."""
        return [(p, self.policy_document(p)) for p in self.into(resource, "policy_of")]

    def grants(
        self, role: Resource, action: str, target: Resource | None = None
    ) -> list[Statement]:
        """Allow statements of a role's policies that grant `action` (on `target`)."""
        found: list[Statement] = []
        for policy in self.role_policies(role):
            for statement in policy.allow_statements(action):
                if target is None or self.covers(statement, target):
                    found.append(statement)
        return found

    def covers(self, statement: Statement, target: Resource) -> bool:
        """Whether a statement's resources include `target`: by reference, name or ARN,
        `"*"`, or an ARN wildcard over the target's whole service (`...:function:*`)."""
        service = target.type.split("::")[1].lower() if target.type.count("::") == 2 else None
        return statement.not_resource or any(
            self.refers_to(v, target) or v.text() == "*" or _wildcard_service(v) == service
            for v in statement.resources
        )

    def may_be_absent(self, root: object, path: str) -> bool:
        """Whether some `Fn::If` branch leaves out the value at a dotted path.

        True when a key on the path is missing, or a branch on the way is
        `AWS::NoValue`, null or empty: `RedrivePolicy: !If [Prod, {...},
        !Ref AWS::NoValue]` may be absent. Other intrinsics count as present.
        """
        nodes = [root]
        for key in path.split("."):
            following: list[object] = []
            for node in nodes:
                for branch in _branches(node):
                    if branch in (None, "", []):
                        return True
                    if isinstance(branch, dict) and key in branch:
                        following.append(branch[key])
                    elif isinstance(branch, dict) and not intrinsic_name(branch):
                        return True
            nodes = following
        return any(b in (None, "", []) for node in nodes for b in _branches(node))

    # -- services (microservices) ----------------------------------------------

    def services(self) -> list[Service]:
        """Each API Gateway API and load balancer with what runs behind it (see `Service`)."""
        return self._services

    def dns_records(self, resource: Resource) -> list[tuple[Resource, Resource]]:
        """Route 53 records that resolve to a resource, each with what the record names.

        That is the resource itself (an alias or CNAME to a load balancer), an
        API Gateway custom domain mapped to it, or a CloudFront distribution
        that has it as an origin.
        """
        hops = [resource, *self.into(resource, "maps_to"), *self.into(resource, "origin")]
        return [(record, hop) for hop in hops for record in self.into(hop, "alias_target")]

    def roles_of(self, member: Resource) -> list[Resource]:
        """The IAM roles a function, instance, Auto Scaling group or ECS service runs as."""
        current = [member]
        for kinds in RUNS_AS.get(member.type, ()):
            current = _unique(n for node in current for k in kinds for n in self.out(node, k))
        return [r for r in current if r.type == "AWS::IAM::Role"] if member.type in RUNS_AS else []

    @cached_property
    def _services(self) -> list[Service]:
        behind = {door.key: self._behind(door) for door in self.resources(*FRONT_DOOR_TYPES)}
        claimed = {m.key for members in behind.values() for m in members}
        workers = self._workers(behind, claimed)
        services = []
        for key, members in behind.items():
            members = _unique([*members, *workers.get(key, ())])
            roles = _unique(r for m in members for r in self.roles_of(m))
            granted = _unique(t for r in roles for t in self.out(r, "grants"))
            services.append(Service(self.resource(key), members, roles, granted))
        return services

    def _behind(self, door: Resource) -> list[Resource]:
        """The functions and targets a front door sends requests to."""
        if door.type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            groups = self.target_groups_of(door)
            found = [
                t for g in groups for t in (*self.out(g, "routes_to"), *self.into(g, "targets"))
            ]
        else:
            parts = [door] + [
                p
                for p in self.into(door, "api")
                if p.type in ("AWS::ApiGateway::Method", "AWS::ApiGatewayV2::Integration")
            ]
            found = [f for p in parts for f in self.out(p, "integration")]
        # An alias or version stands for its function.
        return _unique(next(iter(self.out(f, "version_of")), f) for f in found)

    def _workers(
        self, behind: dict[str, list[Resource]], claimed: set[str]
    ) -> dict[str, list[Resource]]:
        """Functions behind no front door that consume a queue or stream only one service uses."""
        users: dict[str, set[str]] = {}
        for door, members in behind.items():
            for role in (r for m in members for r in self.roles_of(m)):
                for target in self.out(role, "grants"):
                    if target.type in _WORK_QUEUES:
                        users.setdefault(target.key, set()).add(door)
        workers: dict[str, list[Resource]] = {}
        for queue, doors in users.items():
            if len(doors) == 1:
                consumers = self.out(self.resource(queue), "event_source")
                workers.setdefault(doors.pop(), []).extend(
                    f for f in consumers if f.key not in claimed
                )
        return workers


# `arn:aws:lambda:us-east-1:123456789012:function:*`: every resource of a service.
_ARN_KINDS = "function|table|stream|deliverystream|secret|role|workgroup|cache"
_SERVICE_WILDCARD = re.compile(rf"^arn:[^:]*:([a-z0-9-]+):[^:]*:[^:]*:(?:(?:{_ARN_KINDS})[:/])?\*$")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def _wildcard_service(value: Value) -> str | None:
    """The service whose every resource an ARN wildcard names, if it does."""
    text = value.text() if isinstance(value, (Lit, Text)) else None
    match = _SERVICE_WILDCARD.match(_PLACEHOLDER.sub("x", text)) if text else None
    return match.group(1) if match else None


def _unique(resources: Iterable[Resource]) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for resource in resources:
        seen.setdefault(resource.key, resource)
    return list(seen.values())


def _branches(node: object) -> list[object]:
    """The raw nodes a position holds in each `Fn::If` branch; None for `AWS::NoValue`."""
    if is_no_value(node):
        return [None]
    if intrinsic_name(node) == "Fn::If":
        args = node["Fn::If"]  # type: ignore[index]
        if isinstance(args, list) and len(args) == 3:
            return _branches(args[1]) + _branches(args[2])
    return [node]


_SUB_NAMES = re.compile(r"\$\{([^}!][^}]*)\}")


def _references(node: object) -> Iterator[tuple[str, str, int | None]]:
    """Every (logical id, edge kind, line) referenced below a node, iteratively."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if len(current) == 1:
                (key,) = current
                value = current[key]
                line = getattr(current, "line", None)
                if key == "Ref" and isinstance(value, str) and not value.startswith("AWS::"):
                    yield value, "ref", line
                    continue
                if key == "Fn::GetAtt":
                    target = value[0] if isinstance(value, list) and value else value
                    if isinstance(target, str):
                        yield target.split(".", 1)[0], "getatt", line
                    continue
                if key == "Fn::Sub":
                    template = value[0] if isinstance(value, list) and value else value
                    if isinstance(template, str):
                        for name in _SUB_NAMES.findall(template):
                            if not name.startswith("AWS::"):
                                yield name.split(".", 1)[0].strip(), "sub", line
                    if isinstance(value, list) and len(value) > 1:
                        stack.append(value[1])
                    continue
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
