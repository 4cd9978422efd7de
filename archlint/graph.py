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
from archlint.values import Lit, Ref, Resolver, Text, Value, refs_in
from archlint.template import Resource, Template

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
    EdgeRow("AWS::S3::Bucket", "notifies", "NotificationConfiguration.QueueConfigurations[*].Queue"),
    EdgeRow("AWS::S3::Bucket", "notifies", "NotificationConfiguration.TopicConfigurations[*].Topic"),
    # Lambda
    EdgeRow("AWS::Lambda::EventSourceMapping", "event_source", "FunctionName", frm="EventSourceArn"),
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
    EdgeRow("AWS::AutoScaling::AutoScalingGroup", "launch_template", "LaunchTemplate.LaunchTemplateId"),
    EdgeRow("AWS::AutoScaling::AutoScalingGroup", "in_subnet", "VPCZoneIdentifier[*]"),
    EdgeRow("AWS::AutoScaling::ScalingPolicy", "scales", "AutoScalingGroupName"),
    EdgeRow("AWS::ElasticLoadBalancingV2::Listener", "listener", SELF, frm="LoadBalancerArn"),
    EdgeRow(
        "AWS::ElasticLoadBalancingV2::Listener", "forwards_to", "DefaultActions[*].TargetGroupArn"
    ),
    EdgeRow(
        "AWS::ElasticLoadBalancingV2::Listener",
        "forwards_to",
        "DefaultActions[*].ForwardConfig.TargetGroups[*].TargetGroupArn",
    ),
    EdgeRow("AWS::ElasticLoadBalancingV2::ListenerRule", "forwards_to", "Actions[*].TargetGroupArn"),
    EdgeRow("AWS::ElasticLoadBalancingV2::ListenerRule", "rule_of", "ListenerArn"),
    EdgeRow("AWS::ElasticLoadBalancingV2::LoadBalancer", "security_group", "SecurityGroups[*]"),
    EdgeRow("AWS::ElasticLoadBalancingV2::LoadBalancer", "in_subnet", "Subnets[*]"),
    EdgeRow("AWS::EC2::SecurityGroupIngress", "ingress_of", "GroupId"),
    EdgeRow("AWS::EC2::Subnet", "in_vpc", "VpcId"),
    # Data stores
    EdgeRow("AWS::DAX::Cluster", "service_role", "IAMRoleARN"),
    EdgeRow("AWS::DAX::Cluster", "subnet_group", "SubnetGroupName"),
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
}

# Splits an ARN or URL into the names it may contain, keeping `${AWS::X}` whole.
_NAME_TOKENS = re.compile(r"[:/](?![^{]*\})")

POLICY_RESOURCE_TYPES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
}


class ResourceGraph:
    """A template's resources and how they connect."""

    def __init__(self, template: Template) -> None:
        self.template = template
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
                sources = [(key, resource.line)] if row.frm == SELF else self._found(resource, row.frm, ())
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
                found = [(k, line) for v in self.resolver.values(node, line) for k in self.targets_of(v)]
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
            self.resource(t) for _, t, data in self.g.out_edges(resource.key, data=True)
            if data["kind"] == kind
        )

    def into(self, resource: Resource, kind: str) -> list[Resource]:
        """Resources that point to this one with edges of `kind`."""
        return _unique(
            self.resource(s) for s, _, data in self.g.in_edges(resource.key, data=True)
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
                policies.append(Policy(f"managed policies of {role.logical_id}", managed, None, role.key))
            result[role.key] = policies
        for policy_resource in self.resources("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
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
                if target is None or statement.not_resource:
                    found.append(statement)
                elif any(
                    self.refers_to(v, target) or v.text() == "*" for v in statement.resources
                ):
                    found.append(statement)
        return found


def _unique(resources: Iterable[Resource]) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for resource in resources:
        seen.setdefault(resource.key, resource)
    return list(seen.values())


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
