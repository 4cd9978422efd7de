"""X-S3-LAMBDA-PERMISSION, X-S3-QUEUE-POLICY: S3 and SNS may deliver events, and only theirs."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement, action_matches
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Unknown, Value

S3_SERVICE = "s3.amazonaws.com"
SNS_SERVICE = "sns.amazonaws.com"
FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version")
LAMBDA_NOTIFICATIONS = "NotificationConfiguration.LambdaConfigurations[*]"
# aws:SourceOwner is the legacy SNS form of aws:SourceAccount.
SCOPE_KEYS = ("aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner")
SEND_ACTION = {"AWS::SQS::Queue": "sqs:SendMessage", "AWS::SNS::Topic": "sns:Publish"}
POLICY_TYPE = {
    "AWS::SQS::Queue": "AWS::SQS::QueuePolicy",
    "AWS::SNS::Topic": "AWS::SNS::TopicPolicy",
}


@rule(
    code="AL105",
    name="s3-notification-without-lambda-permission",
    requirement="X-S3-LAMBDA-PERMISSION",
    severity=ERROR,
    resource_types=("AWS::S3::Bucket", "AWS::Lambda::Permission"),
    fix="Add an AWS::Lambda::Permission with Action lambda:InvokeFunction, Principal "
    "s3.amazonaws.com, SourceArn the bucket's ARN and SourceAccount !Ref AWS::AccountId, "
    "and make the bucket DependsOn it.",
)
def s3_notification_without_lambda_permission(
    resource: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    """## What it does
    For every `LambdaConfigurations` entry of a bucket's
    `NotificationConfiguration` (each `Fn::If` branch of its `Function`),
    checks that an `AWS::Lambda::Permission` lets `s3.amazonaws.com` invoke
    that function; a permission whose `SourceArn` names another bucket of
    the template does not count. Every permission for `s3.amazonaws.com`
    must be scoped by `SourceArn` (not `arn:aws:s3:::*`) or `SourceAccount`
    in every `Fn::If` branch.

    ## Why is this bad?
    S3 checks that it may invoke the function when the notification is
    created: without the permission the stack fails to create. Without a
    source condition, any bucket in any account can invoke the function
    with forged events.
    """
    if resource.type == "AWS::Lambda::Permission":
        yield from _unscoped_permission(resource, graph)
        return
    bucket = resource
    for value in graph.resolver.values_at(bucket.properties, f"{LAMBDA_NOTIFICATIONS}.Function"):
        functions = [
            graph.resource(k) for k in graph.targets_of(value) if graph.type_of(k) in FUNCTION_TYPES
        ]
        if not functions:
            yield Violation(
                bucket,
                f"bucket {bucket.logical_id} notifies function {value.text()}, which is not "
                "defined in this template; cannot check its permission for s3.amazonaws.com",
                line=value.line,
                undecided=Unknown(
                    f"function {value.text()}, which is not defined in this template", value.line
                ),
            )
        for function in functions:
            if not any(
                _lets_s3_invoke(p, bucket, graph) for p in graph.into(function, "permission_for")
            ):
                yield Violation(
                    bucket,
                    f"bucket {bucket.logical_id} notifies function {function.logical_id} but no "
                    "AWS::Lambda::Permission lets s3.amazonaws.com invoke it; the stack fails "
                    "to create",
                    line=value.line,
                )


def _lets_s3_invoke(permission: Resource, bucket: Resource | None, graph: ResourceGraph) -> bool:
    """Whether a permission lets S3 invoke its function (for `bucket`, when given)."""
    resolver = graph.resolver
    props = permission.properties
    if not any(v.text() == S3_SERVICE for v in resolver.values_at(props, "Principal")):
        return False
    if not any(
        action_matches(v.text() or "", "lambda:InvokeFunction")
        for v in resolver.values_at(props, "Action")
    ):
        return False
    arns = resolver.values_at(props, "SourceArn")
    return bucket is None or not _names_other_sources(arns, bucket, graph)


def _unscoped_permission(permission: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    props = permission.properties
    if not _lets_s3_invoke(permission, None, graph) or not graph.may_be_absent(
        props, "SourceAccount"
    ):
        return
    functions = ", ".join(f.logical_id for f in graph.out(permission, "permission_for")) or (
        " ".join(v.text() or "?" for v in graph.resolver.values_at(props, "FunctionName"))
    )
    wild = [v.text() for v in graph.resolver.values_at(props, "SourceArn") if _is_wildcard(v)]
    if "SourceArn" not in props:
        problem = "no SourceArn or SourceAccount"
    elif graph.may_be_absent(props, "SourceArn"):
        problem = "an Fn::If branch leaves SourceArn out and there is no SourceAccount"
    elif wild:
        problem = f"SourceArn is {wild[0]} and there is no SourceAccount"
    else:
        return
    yield Violation(
        permission,
        f"permission {permission.logical_id} lets s3.amazonaws.com invoke {functions} for any "
        f"bucket in any account: {problem}",
        line=permission.line_of("SourceArn" if "SourceArn" in props else "Principal"),
    )


@rule(
    code="AL106",
    name="event-destination-without-policy",
    requirement="X-S3-QUEUE-POLICY",
    severity=ERROR,
    resource_types=("AWS::SQS::Queue", "AWS::SNS::Topic"),
    fix="Add a queue (topic) policy statement that allows the sending service principal "
    "sqs:SendMessage (sns:Publish) with Condition ArnEquals aws:SourceArn set to the bucket or "
    "topic ARN (or StringEquals aws:SourceAccount).",
)
def event_destination_without_policy(
    destination: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    """## What it does
    For every queue or topic that an S3 bucket of the template notifies
    (`QueueConfigurations`, `TopicConfigurations`), and every queue
    subscribed to an SNS topic, checks that the queue's (topic's) resource
    policy has an Allow statement for the sending service principal
    (`s3.amazonaws.com`, `sns.amazonaws.com`) and the send action
    (`sqs:SendMessage`, `sns:Publish`), and that the statement is scoped by
    an `aws:SourceArn` naming that bucket or topic (not a bare wildcard) or
    by `aws:SourceAccount`. A statement whose `aws:SourceArn` names another
    resource of the template does not count for this sender.

    ## Why is this bad?
    Without the policy, S3 refuses to create the notification (the stack
    fails) and SNS silently drops every message it should deliver to the
    queue. Without a source condition, any bucket or topic in any account
    can write to the queue.
    """
    action = SEND_ACTION[destination.type]
    for sender, service, label in _senders(destination, graph):
        statements = [
            (policy_resource, statement)
            for policy_resource, policy in graph.resource_policies(destination)
            for statement in policy.allow_statements()
            if _admits(statement, service, action, sender, graph)
        ]
        if not statements:
            consequence = (
                "S3 refuses to create the notification"
                if service == S3_SERVICE
                else "SNS drops every message"
            )
            policies = graph.resource_policies(destination)
            yield Violation(
                policies[0][0] if policies else destination,
                f"{destination.logical_id} receives {label} but no "
                f"{POLICY_TYPE[destination.type]} allows {service} to {action} from it: "
                f"{consequence}",
                line=policies[0][0].line_of("PolicyDocument") if policies else None,
            )
        for policy_resource, statement in statements:
            problem = _unscoped(statement, graph)
            if problem:
                who = 'everyone (Principal "*")' if statement.everyone else service
                yield Violation(
                    policy_resource,
                    f"{statement.label} lets {who} {action} to {destination.logical_id} "
                    f"from any source: {problem}",
                    line=statement.line,
                )


def _senders(
    destination: Resource, graph: ResourceGraph
) -> Iterator[tuple[Resource | None, str, str]]:
    """(sender, service principal, label) for everything that delivers to a queue or topic."""
    for bucket in graph.into(destination, "notifies"):
        if bucket.type == "AWS::S3::Bucket":
            yield bucket, S3_SERVICE, f"S3 notifications of bucket {bucket.logical_id}"
    if destination.type != "AWS::SQS::Queue":
        return
    for topic in graph.into(destination, "subscription"):
        if topic.type == "AWS::SNS::Topic":
            yield topic, SNS_SERVICE, f"the SNS subscription to topic {topic.logical_id}"
    resolver = graph.resolver
    for subscription in graph.resources("AWS::SNS::Subscription"):
        props = subscription.properties
        if not any(graph.refers_to(v, destination) for v in resolver.values_at(props, "Endpoint")):
            continue
        topics = resolver.values_at(props, "TopicArn")
        if not any(graph.targets_of(v) for v in topics):
            shown = ", ".join(v.text() or "?" for v in topics)
            yield None, SNS_SERVICE, f"the SNS subscription {subscription.logical_id} to {shown}"


def _admits(
    statement: Statement, service: str, action: str, sender: Resource | None, graph: ResourceGraph
) -> bool:
    if statement.not_principal or not statement.matches_action(action):
        return False
    if not any(p.is_service(service) or p.is_everyone for p in statement.principals or ()):
        return False
    if sender is None:
        return True
    arns = [
        value
        for _, raw in statement.condition_entries("aws:SourceArn")
        for item, _ in graph.resolver.items(raw)
        for value in graph.resolver.values(item)
    ]
    return not _names_other_sources(arns, sender, graph)


def _names_other_sources(arns: list[Value], sender: Resource, graph: ResourceGraph) -> bool:
    """Whether source ARN values all name resources of the template other than `sender`."""
    targets = [graph.targets_of(v) for v in arns]
    return bool(arns) and all(t and sender.key not in t for t in targets)


def _unscoped(statement: Statement, graph: ResourceGraph) -> str | None:
    """Why a statement is not limited to one source (None when it is): needs an
    `aws:SourceAccount` test, or an `aws:SourceArn` test with no bare wildcard."""
    wildcard = None
    for key in SCOPE_KEYS:
        for operator, raw in statement.condition_entries(key):
            if "Not" in operator or "IfExists" in operator:
                continue
            resolver = graph.resolver
            values = [v for item, _ in resolver.items(raw) for v in resolver.values(item)]
            wild = [v.text() for v in values if _is_wildcard(v)]
            if key != "aws:SourceArn" or not wild:
                return None
            wildcard = wild[0]
    if wildcard:
        return f"aws:SourceArn can be {wildcard} and there is no aws:SourceAccount condition"
    return "no aws:SourceArn or aws:SourceAccount condition"


def _is_wildcard(value: Value) -> bool:
    text = value.text() if isinstance(value, Lit) else None
    return text is not None and (text == "*" or text.endswith((":::*", ":*")))
