"""What the roles of a template may do: the IAM questions of the resource graph.

`ResourceGraph` inherits these: the policies of a role (inline, attached
policy resources, AWS managed policies by their real statements), resource
policies of buckets, queues and topics, trust policies, and `grants(role,
action, target)`. Building adds the `grants` edges (role -> resource its
statements name) and `grants_any` edges (role -> resource a wildcard covers).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING

from archlint.iam import (
    Policy,
    Statement,
    action_matches,
    managed_policy_statements,
    parse_policy,
)
from archlint.template import Resource
from archlint.values import Lit, Text, Value

if TYPE_CHECKING:
    import networkx as nx

    from archlint.template import Template
    from archlint.values import Resolver

POLICY_RESOURCE_TYPES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
}

# What a function's role must be allowed to read its event source (see _add_event_source_grants).
EVENT_SOURCE_READS = {
    "AWS::DynamoDB::Table": "dynamodb:GetRecords",
    "AWS::DynamoDB::GlobalTable": "dynamodb:GetRecords",
    "AWS::Kinesis::Stream": "kinesis:GetRecords",
    "AWS::SQS::Queue": "sqs:ReceiveMessage",
}


class IamQuestions:
    """IAM questions and the grant edges; `ResourceGraph` provides `resource`, `type_of`,
    `resources`, `out`, `targets_of` and `refers_to`."""

    g: nx.MultiDiGraph
    resolver: Resolver
    template: Template

    def _add_grants(self) -> None:
        for role in self.resources("AWS::IAM::Role"):
            for policy in self.role_policies(role):
                for statement in policy.allow_statements():
                    for value in statement.resources:
                        for target in self.targets_of(value):
                            self._grant(role, target, statement)
                    self._add_wildcard_grants(role, statement)
        self._add_event_source_grants()

    def _grant(
        self, role: Resource, target: str, statement: Statement, kind: str = "grants"
    ) -> None:
        self.g.add_edge(role.key, target, kind=kind, actions=statement.actions, line=statement.line)

    def _add_wildcard_grants(self, role: Resource, statement: Statement) -> None:
        """`grants_any` edges from a role to the resources a wildcard statement covers.

        `dax:GetItem` on `Resource: "*"` (or on `arn:aws:dax:*:*:cache/*`, or with
        `NotResource`) lets the role use every DAX cluster of the template, though
        it names none. Such grants get their own edge kind, so that questions about
        what a role names (which queues a service uses) are not flooded by them;
        conformance counts them as grants. `Action: "*"` is left out (AL104's
        business, and an edge to everything says nothing).
        """
        services = {a.split(":", 1)[0].lower() for a in statement.actions if ":" in a}
        if statement.not_action or not services:
            return
        wildcards = {
            "*" if statement.not_resource or v.text() == "*" else _wildcard_service(v)
            for v in statement.resources
        }
        wildcards.discard(None)
        if not wildcards:
            return
        for target in self.template.resources.values():
            service = _service_of(target.type)
            if service is None or target.key == role.key:
                continue
            if ("*" in wildcards or service in wildcards) and any(
                action_matches(s, service) for s in services
            ):
                self._grant(role, target.key, statement, kind="grants_any")

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
                    self._grant(role, source, statement)

    # -- questions ------------------------------------------------------------

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


# `arn:aws:lambda:us-east-1:123456789012:function:*`: every resource of a service.
_ARN_KINDS = "function|table|stream|deliverystream|secret|role|workgroup|cache"
_SERVICE_WILDCARD = re.compile(rf"^arn:[^:]*:([a-z0-9-]+):[^:]*:[^:]*:(?:(?:{_ARN_KINDS})[:/])?\*$")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def _wildcard_service(value: Value) -> str | None:
    """The service whose every resource an ARN wildcard names, if it does."""
    text = value.text() if isinstance(value, (Lit, Text)) else None
    match = _SERVICE_WILDCARD.match(_PLACEHOLDER.sub("x", text)) if text else None
    return match.group(1) if match else None


# IAM service prefixes that are not the type's service name, lower-cased.
_IAM_PREFIXES = {
    "kinesisfirehose": "firehose",
    "redshiftserverless": "redshift-serverless",
    "elasticloadbalancingv2": "elasticloadbalancing",
    "stepfunctions": "states",
    "apigatewayv2": "apigateway",
    "cognito": None,
}


def _service_of(resource_type: str) -> str | None:
    """The IAM service prefix of a resource type (`AWS::DynamoDB::Table` -> `dynamodb`)."""
    parts = resource_type.split("::")
    if len(parts) != 3 or parts[0] != "AWS":
        return None
    name = parts[1].lower()
    return _IAM_PREFIXES.get(name, name)
