"""MSV-ASYNC-FAILURES: queues between services keep failed messages and accept their topics."""

from __future__ import annotations

import json
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.iam import Statement
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Text, Unknown, Value, intrinsic_name

SNS_SERVICE = "sns.amazonaws.com"
SOURCE_ARN = "aws:SourceArn"
# aws:SourceOwner is SNS's older name for aws:SourceAccount.
SOURCE_ACCOUNT_KEYS = ("aws:SourceAccount", "aws:SourceOwner")
ANY_TOPIC = "*"


@rule(
    code="AL805",
    name="async-queue-unprotected",
    requirement="MSV-ASYNC-FAILURES",
    severity=ERROR,
    resource_types=("AWS::SQS::Queue",),
    architectures=("microservices",),
    fix="Give the queue a RedrivePolicy with a deadLetterTargetArn, and for each SNS "
    "subscription an AWS::SQS::QueuePolicy allowing sns.amazonaws.com sqs:SendMessage with "
    "Condition ArnEquals aws:SourceArn set to the topic.",
)
def async_queue_unprotected(queue: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For every SQS queue that carries messages between services (the endpoint
    of an SNS subscription, the target of an S3 notification, or the event
    source of a function) and is not itself a dead-letter or on-failure
    queue, checks that its `RedrivePolicy` names a dead-letter queue (in
    every `Fn::If` branch and parameter default). For each SNS subscription
    to it, checks that a queue policy lets `sns.amazonaws.com` send
    (`sqs:SendMessage`) conditioned on `aws:SourceArn` naming that topic or
    on `aws:SourceAccount` (X-S3-QUEUE-POLICY allows either), and that no
    statement lets SNS (or anyone) send without such a condition.

    ## Why is this bad?
    Without a dead-letter queue a message the consumer cannot process is
    retried until it expires and is then lost, and one poison message can
    block the service. Without the queue policy SNS cannot deliver at all and
    drops every message silently; without the `aws:SourceArn` condition any
    topic, in any account, can write into the service's queue.
    """
    if graph.into(queue, "dead_letter") or graph.into(queue, "on_failure"):
        return
    channels = [
        *(f"messages of topic {t.logical_id}" for t in graph.into(queue, "subscription")),
        *(f"notifications of bucket {b.logical_id}" for b in graph.into(queue, "notifies")),
        *(f"events to function {f.logical_id}" for f in graph.out(queue, "event_source")),
        *(f"messages of {s.logical_id}" for s in _unknown_subscriptions(queue, graph)),
    ]
    if not channels:
        return
    yield from _dead_letter_problems(queue, channels[0], graph)
    yield from _subscription_problems(queue, graph)
    yield from _unknown_topics(queue, graph)


def _dead_letter_problems(
    queue: Resource, channel: str, graph: ResourceGraph
) -> Iterator[Violation]:
    policies = graph.resolver.find(queue.properties, "RedrivePolicy")
    if not policies:
        yield Violation(
            queue,
            f"queue {queue.logical_id} carries {channel} but has no RedrivePolicy "
            "(dead-letter queue)",
        )
        return
    problems = [
        p for node, line in policies for p in _target_problems(queue, channel, node, line, graph)
    ]
    yield from problems
    if not problems and graph.may_be_absent(queue.properties, "RedrivePolicy.deadLetterTargetArn"):
        yield Violation(
            queue,
            f"queue {queue.logical_id} carries {channel} but has no dead-letter queue in some "
            "Fn::If branch (AWS::NoValue)",
            line=queue.line_of("RedrivePolicy"),
        )


def _target_problems(
    queue: Resource, channel: str, node: object, line: int | None, graph: ResourceGraph
) -> Iterator[Violation]:
    for value in _dead_letter_targets(node, line, graph):
        if isinstance(value, Unknown):
            yield Violation(
                queue,
                f"cannot tell the dead-letter queue of {queue.logical_id}: {value.reason}",
                line=value.line or line,
                undecided=value,
            )
        elif isinstance(value, Lit) and not value.text():
            origin = f" ({value.origin})" if value.origin else ""
            shown = "missing" if value.value is None else json.dumps(value.value)
            yield Violation(
                queue,
                f"queue {queue.logical_id} carries {channel} but its RedrivePolicy "
                f"names no dead-letter queue: deadLetterTargetArn is {shown}{origin}",
                line=value.line or line,
            )


def _dead_letter_targets(node: object, line: int | None, graph: ResourceGraph) -> list[Value]:
    """deadLetterTargetArn values of a RedrivePolicy, given as a mapping or a JSON string."""
    resolver = graph.resolver
    if isinstance(node, dict) and intrinsic_name(node) is None:
        return resolver.values_at(node, "deadLetterTargetArn") or [Lit(None, line)]
    out: list[Value] = []
    for value in resolver.values(node, line):
        text = value.text() if isinstance(value, (Lit, Text)) else None
        if isinstance(value, Unknown) or not isinstance(text, str):
            out.append(value if isinstance(value, Unknown) else Lit(None, value.line or line))
            continue
        try:
            policy = json.loads(text)
        except ValueError:
            policy = None
        target = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
        origin = value.origin if isinstance(value, Lit) else None
        out.append(Lit(target, value.line or line, origin))
    return out


def _subscription_problems(queue: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    subscriptions = graph.edges_in(queue, "subscription")
    if not subscriptions:
        return
    policies = graph.resource_policies(queue)
    scoped: set[str] = set()
    unscoped = False
    for policy_resource, policy in policies:
        for statement in policy.allow_statements("sqs:SendMessage"):
            if not _from_sns(statement):
                continue
            topics = _source_arn_scope(statement, graph)
            scoped |= topics or set()
            if topics is None:
                unscoped = True
                yield Violation(
                    policy_resource,
                    f"{statement.label} lets any SNS topic send to queue {queue.logical_id}: "
                    f"no {SOURCE_ARN} condition naming the subscribed topic and no "
                    "aws:SourceAccount condition",
                    line=statement.line,
                )
    for topic, edge in subscriptions:
        subscription = graph.resource(edge["via"])
        delivery = (
            f"topic {topic.logical_id} subscribes queue {queue.logical_id}"
            if subscription.key == topic.key
            else f"{subscription.logical_id} subscribes queue {queue.logical_id} to topic "
            f"{topic.logical_id}"
        )
        if not policies:
            yield Violation(
                subscription,
                f"{delivery}, but no queue policy lets {SNS_SERVICE} send to it: every "
                "message is dropped",
                line=edge["line"],
            )
        elif topic.key not in scoped and ANY_TOPIC not in scoped and not unscoped:
            policy_resource = policies[0][0]
            yield Violation(
                policy_resource,
                f"{delivery}, but no statement of queue policy {policy_resource.logical_id} "
                f"lets {SNS_SERVICE} sqs:SendMessage with {SOURCE_ARN} = that topic",
                line=policy_resource.line_of("PolicyDocument"),
            )


def _from_sns(statement: Statement) -> bool:
    return statement.not_principal or any(
        p.is_service(SNS_SERVICE) or p.is_everyone for p in statement.principals or ()
    )


def _source_arn_scope(statement: Statement, graph: ResourceGraph) -> set[str] | None:
    """Topics a statement is limited to: those its `aws:SourceArn` names, or every topic of
    the template when `aws:SourceAccount` limits it to this account (X-S3-QUEUE-POLICY
    allows either); None if not limited."""
    accounts = [
        op
        for key in SOURCE_ACCOUNT_KEYS
        for op, _ in statement.condition_entries(key)
        if "Not" not in op and "IfExists" not in op and op != "Null"
    ]
    if accounts:
        return {t.key for t in graph.resources("AWS::SNS::Topic")} | {ANY_TOPIC}
    entries = statement.condition_entries(SOURCE_ARN)
    if not entries or any("Not" in op or op == "Null" for op, _ in entries):
        return None
    topics: set[str] = set()
    for _, raw in entries:
        for item, line in graph.resolver.items(raw):
            for value in graph.resolver.values(item, line):
                topics |= graph.targets_of(value)
    return topics


def _unknown_subscriptions(queue: Resource, graph: ResourceGraph) -> list[Resource]:
    """Subscriptions of the queue whose topic is not a topic of the template."""
    resolver = graph.resolver
    known = {edge["via"] for _, edge in graph.edges_in(queue, "subscription")}
    return [
        subscription
        for subscription in graph.resources("AWS::SNS::Subscription")
        if subscription.key not in known
        and any(
            graph.refers_to(v, queue)
            for v in resolver.values_at(subscription.properties, "Endpoint")
        )
    ]


def _unknown_topics(queue: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    for subscription in _unknown_subscriptions(queue, graph):
        topics = graph.resolver.values_at(subscription.properties, "TopicArn")
        shown = ", ".join(v.reason if isinstance(v, Unknown) else v.text() for v in topics)
        line = subscription.line_of("TopicArn")
        unknown = next((v for v in topics if isinstance(v, Unknown)), None)
        yield Violation(
            subscription,
            f"cannot tell which topic {subscription.logical_id} subscribes queue "
            f"{queue.logical_id} to ({shown or 'no TopicArn'}), so its queue policy is not "
            "checked",
            line=line,
            undecided=unknown or Unknown(shown or "no TopicArn", line),
        )
