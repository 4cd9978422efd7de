"""CDK synth output: what CDK configures through custom resources, said as CloudFormation says it.

CDK never writes a bucket's `NotificationConfiguration`. `bucket.addEventNotification(...)`
synthesizes a `Custom::S3BucketNotifications` resource whose handler calls
`PutBucketNotificationConfiguration` with the S3 API's shape
(`LambdaFunctionConfigurations[].Events[]`, `LambdaFunctionArn`,
`Filter.Key.FilterRules`). `inline_bucket_notifications` adds those
notifications to the bucket's own `NotificationConfiguration` in CloudFormation's
shape (one `Event` per entry, `Function`, `Filter.S3Key.Rules`), keeping the
custom resource's nodes and lines, so the graph and every rule see the trigger
that the deployed bucket has.
"""

from __future__ import annotations

from archlint.nodes import Map, Seq
from archlint.template import Template

BUCKET_NOTIFICATIONS = "Custom::S3BucketNotifications"
# (S3 API list, CloudFormation list, S3 API target field, CloudFormation target field)
_KINDS = (
    ("LambdaFunctionConfigurations", "LambdaConfigurations", "LambdaFunctionArn", "Function"),
    ("QueueConfigurations", "QueueConfigurations", "QueueArn", "Queue"),
    ("TopicConfigurations", "TopicConfigurations", "TopicArn", "Topic"),
)


def inline_bucket_notifications(template: Template) -> None:
    """Add each `Custom::S3BucketNotifications` of the template to the bucket it configures."""
    for custom in list(template.of_type(BUCKET_NOTIFICATIONS)):
        target = custom.properties.get("BucketName")
        name = target.get("Ref") if isinstance(target, dict) else None
        bucket = template.resources.get(name) if isinstance(name, str) else None
        wanted = custom.properties.get("NotificationConfiguration")
        if bucket is None or bucket.type != "AWS::S3::Bucket" or not isinstance(wanted, Map):
            continue
        properties = _child(bucket.body, "Properties", bucket.line)
        config = _child(properties, "NotificationConfiguration", wanted.line)
        if config is None:
            continue
        for api_list, cfn_list, api_field, cfn_field in _KINDS:
            items = wanted.get(api_list)
            if not isinstance(items, Seq):
                continue
            entries = config.get(cfn_list)
            if not isinstance(entries, Seq):
                entries = Seq(items.line)
                config[cfn_list] = entries
                config.key_lines[cfn_list] = wanted.line_of(api_list) or 1
            for index, item in enumerate(items):
                if isinstance(item, Map):
                    for entry in _entries(item, api_field, cfn_field):
                        entries.append(entry)
                        entries.item_lines.append(items.line_of(index) or 1)


def _entries(item: Map, api_field: str, cfn_field: str) -> list[Map]:
    """One CloudFormation notification entry per event of an S3 API configuration."""
    events = item.get("Events")
    out = []
    for event in events if isinstance(events, Seq) else [events]:
        entry = Map(item.line)
        entry["Event"] = event
        entry.key_lines["Event"] = item.line_of("Events") or 1
        if api_field in item:
            entry[cfn_field] = item[api_field]
            entry.key_lines[cfn_field] = item.line_of(api_field) or 1
        rules = _at(item, "Filter", "Key", "FilterRules")
        if rules is not None:
            s3_key = Map(item.line_of("Filter"))
            s3_key["Rules"] = rules
            s3_key.key_lines["Rules"] = item.line_of("Filter") or 1
            wrapper = Map(item.line_of("Filter"))
            wrapper["S3Key"] = s3_key
            wrapper.key_lines["S3Key"] = item.line_of("Filter") or 1
            entry["Filter"] = wrapper
            entry.key_lines["Filter"] = item.line_of("Filter") or 1
        out.append(entry)
    return out


def _child(parent: object, key: str, line: int | None) -> Map | None:
    """`parent[key]` as a mapping, created (at `line`) when absent; None if it is something else."""
    if not isinstance(parent, Map):
        return None
    if key not in parent:
        parent[key] = Map(line)
        parent.key_lines[key] = line or 1
    child = parent[key]
    return child if isinstance(child, Map) else None


def _at(node: object, *keys: str) -> object:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node
