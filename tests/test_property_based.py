"""Whatever lands in the repository, archlint answers: no exception, no crashed rule.

Hypothesis generates arbitrary YAML/JSON values and template-shaped documents
(real resource types with random, often ill-typed properties and intrinsics in
odd places) and checks that the whole pipeline answers with findings, never a
Python exception, and that no rule reports an internal error.
"""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archlint.engine import Checker, Options
from archlint.registry import load_rules
from archlint.rule import ARCHITECTURES

RULES = load_rules(plugins=False)
TYPES = [
    *sorted({t for r in RULES for t in r.resource_types}),
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Policy",
    "AWS::Lambda::EventSourceMapping",
    "AWS::SQS::QueuePolicy",
    "AWS::ApiGateway::Method",
    "AWS::Serverless::Function",
]
NAMES = st.sampled_from(
    ["A", "B", "Bucket", "Fn", "Role", "Queue", "Dist", "AWS::Region", "AWS::NoValue", "Missing"]
)
KEYS = st.sampled_from(
    [
        "Properties",
        "DistributionConfig",
        "Origins",
        "DomainName",
        "DefaultCacheBehavior",
        "CacheBehaviors",
        "ViewerProtocolPolicy",
        "PolicyDocument",
        "Statement",
        "Effect",
        "Principal",
        "Action",
        "Resource",
        "Condition",
        "Bucket",
        "Role",
        "Policies",
        "Environment",
        "Variables",
        "NotificationConfiguration",
        "LambdaConfigurations",
        "Function",
        "EventSourceArn",
        "FunctionName",
        "TrustedKeyGroups",
        "RedrivePolicy",
        "BufferingHints",
        "Replicas",
        "MethodSettings",
        "AuthorizationType",
        "Events",
        "x",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100),
    st.text(max_size=12),
    st.sampled_from(["*", "s3:*", "allow-all", "arn:aws:s3:::b/*", "0.0.0.0/0"]),
)


def intrinsic(children):
    return st.one_of(
        st.builds(lambda n: {"Ref": n}, NAMES),
        st.builds(lambda n, a: {"Fn::GetAtt": [n, a]}, NAMES, st.sampled_from(["Arn", "x"])),
        st.builds(
            lambda s: {"Fn::Sub": s},
            st.sampled_from(["${A}", "arn:${AWS::Partition}:${B.Arn}/*", "${!x}", "${"]),
        ),
        st.builds(lambda a, b: {"Fn::If": ["C", a, b]}, children, children),
        st.builds(lambda a: {"Fn::Join": ["", a]}, st.lists(children, max_size=3)),
        st.builds(lambda i, a: {"Fn::Select": [i, a]}, st.integers(-1, 3), children),
        st.builds(lambda a: {"Fn::Split": [",", a]}, children),
        st.builds(lambda a: {"Fn::FindInMap": a}, st.lists(children, max_size=4)),
        st.builds(lambda a: {"Fn::If": a}, children),
    )


VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(KEYS, children, max_size=4),
        intrinsic(children),
    ),
    max_leaves=25,
)

TEMPLATES = st.builds(
    lambda resources, params, archs, extra: {
        "Metadata": {"archlint": {"architectures": archs}},
        "Parameters": params,
        "Conditions": {"C": {"Fn::Equals": ["a", "b"]}},
        "Resources": resources,
        **extra,
    },
    st.dictionaries(
        NAMES.filter(lambda n: not n.startswith("AWS::")),
        st.builds(lambda t, p: {"Type": t, "Properties": p}, st.sampled_from(TYPES), VALUES),
        min_size=1,
        max_size=5,
    ),
    st.dictionaries(
        NAMES.filter(lambda n: not n.startswith("AWS::")),
        st.fixed_dictionaries({"Type": st.just("String")}, optional={"Default": SCALARS}),
        max_size=2,
    ),
    st.lists(st.sampled_from(ARCHITECTURES), max_size=2),
    st.dictionaries(st.sampled_from(["Mappings", "Outputs", "Transform"]), VALUES, max_size=1),
)

CHECKER = Checker(RULES, Options())
SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check(data: bytes) -> None:
    findings = CHECKER.check_bytes("generated.yaml", data, explicit=True) or []
    crashed = [f.message for f in findings if f.rule_id == "AL000"]
    assert crashed == []


@SETTINGS
@given(TEMPLATES)
def test_template_shaped_documents_never_crash_a_rule(document):
    check(json.dumps(document).encode())
    check(yaml.safe_dump(document).encode())


@SETTINGS
@given(VALUES)
def test_arbitrary_values_are_answered(value):
    check(json.dumps(value).encode())
    check(yaml.safe_dump(value).encode())


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_answered(data):
    CHECKER.check_bytes("random.yaml", data, explicit=True)
    CHECKER.check_bytes("random.json", b"{" + data, explicit=True)
