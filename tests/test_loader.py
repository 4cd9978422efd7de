"""Hostile and broken input becomes a finding with a line, never a traceback."""

from __future__ import annotations

import json
import time

import pytest

from archlint.loader import MAX_DEPTH, Map, Seq, load
from conftest import run_archlint


def kinds(data: bytes) -> list[tuple[str, int | None]]:
    return [(p.kind, p.line) for p in load(data).problems]


def test_short_form_tags_become_long_form():
    root = load(b"a: !GetAtt Bucket.Arn\nb: !Sub 'x-${AWS::Region}'\nc: !If [C, 1, 2]\n").root
    assert root == {
        "a": {"Fn::GetAtt": ["Bucket", "Arn"]},
        "b": {"Fn::Sub": "x-${AWS::Region}"},
        "c": {"Fn::If": ["C", 1, 2]},
    }


def test_every_mapping_and_key_keeps_its_line():
    root = load(
        b"Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      A: 1\n"
    ).root
    bucket = root["Resources"]["Bucket"]
    assert isinstance(bucket, Map)
    assert bucket.line == 3
    assert root["Resources"].line_of("Bucket") == 2
    assert bucket["Properties"].line_of("A") == 5


def test_json_keeps_lines_too():
    text = (
        b'{\n  "Resources": {\n    "Q": {\n      "Type": "AWS::SQS::Queue"\n'
        b'    }\n  },\n  "L": [1,\n 2]\n}'
    )
    root = load(text).root
    assert root["Resources"].line_of("Q") == 3
    assert root["Resources"]["Q"].line_of("Type") == 4
    assert isinstance(root["L"], Seq) and root["L"].item_lines == [7, 8]


def test_tabs_are_a_syntax_problem_with_the_line():
    assert kinds(b"Resources:\n\tBucket:\n\t\tType: AWS::S3::Bucket\n") == [("syntax", 2)]


def test_duplicate_logical_id_is_reported_and_both_kept():
    loaded = load(b"Resources:\n  A:\n    Type: X\n  A:\n    Type: Y\n")
    assert [(p.kind, p.line) for p in loaded.problems] == [("duplicate-key", 4)]
    resources = loaded.root["Resources"]
    assert resources["A"] == {"Type": "X"}
    assert [(k, v, line) for k, v, line in resources.duplicates] == [("A", {"Type": "Y"}, 4)]


def test_duplicate_keys_in_json():
    assert kinds(b'{"Resources": {"A": {"Type": "X"},\n "A": {"Type": "Y"}}}') == [
        ("duplicate-key", 2)
    ]


def test_billion_laughs_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    data = "\n".join(lines).encode()
    start = time.perf_counter()
    loaded = load(data)
    assert time.perf_counter() - start < 2
    assert loaded.root is None
    assert [p.kind for p in loaded.problems] == ["too-large"]
    assert "alias" in loaded.problems[0].message


def test_moderate_aliases_are_expanded_and_shared():
    root = load(b"base: &b {Type: AWS::SQS::Queue}\nResources:\n  Q1: *b\n  Q2: *b\n").root
    assert root["Resources"]["Q1"] == root["Resources"]["Q2"] == {"Type": "AWS::SQS::Queue"}


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 200_000])
def test_deep_flow_nesting_is_refused(depth):
    loaded = load(b"a: " + b"[" * depth + b"]" * depth)
    assert [p.kind for p in loaded.problems] == ["too-large"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000])
def test_deep_block_nesting_is_refused(depth):
    data = "".join("  " * i + f"k{i}:\n" for i in range(depth)).encode()
    assert [p.kind for p in load(data).problems] == ["too-large"]


def test_deep_json_nesting_is_refused():
    data = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    assert [p.kind for p in load(data).problems] == ["too-large"]


def test_nesting_within_the_limit_loads():
    depth = MAX_DEPTH - 5
    loaded = load(b"a: " + b"[" * depth + b"]" * depth)
    assert loaded.problems == [] and loaded.root is not None


def test_invalid_utf8_names_the_line():
    problems = load(b"Resources:\n  A:\n    Type: \xff\xfe\n").problems
    assert [(p.kind, p.line) for p in problems] == [("encoding", 3)]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_byte_order_marks(encoding):
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    loaded = load(data)
    assert loaded.problems == []
    assert loaded.root["Resources"]["Q"]["Type"] == "AWS::SQS::Queue"


def test_empty_file():
    assert kinds(b"") == [("empty", 1)]
    assert kinds(b"   \n# only a comment\n") == [("empty", 1)]


def test_python_tags_construct_nothing():
    root = load(
        b"a: !!python/object/apply:os.system ['echo pwned']\nb: !!python/name:os.system\n"
    ).root
    assert root == {"a": ["echo pwned"], "b": ""}


def test_oversized_file_is_refused_without_parsing():
    from archlint import loader

    data = b"a: " + b"x" * (loader.MAX_FILE_BYTES + 1)
    assert [p.kind for p in load(data).problems] == ["too-large"]


def test_timestamps_and_yes_no_scalars():
    root = load(b"AWSTemplateFormatVersion: 2010-09-09\nx: yes\ny: 0x10\nz: '007'\n").root
    assert root == {"AWSTemplateFormatVersion": "2010-09-09", "x": True, "y": 16, "z": "007"}


HOSTILE = {
    "tabs.yaml": (b"Resources:\n\tQ:\n\t\tType: AWS::SQS::Queue\n", "AL001", 2),
    "dup.yaml": (
        b"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n  Q:\n    Type: AWS::SNS::Topic\n",
        "AL002",
        4,
    ),
    "utf8.yaml": (b"Resources:\n  Q:\n    Type: \xc3\x28\n", "AL001", 3),
    "list.yaml": (b"AWSTemplateFormatVersion: '2010-09-09'\nResources: [a, b]\n", "AL003", 2),
    "notype.yaml": (b"Resources:\n  Q:\n    Properties: {}\n", "AL003", 3),
    "toplist.json": (b'[{"Resources": {}}]', "AL003", 1),
    "broken.json": (b'{"Resources": {"Q": {"Type": "AWS::SQS::Queue",}}}', "AL001", 1),
    "deep.yaml": (b"Resources: " + b"[" * 50_000 + b"]" * 50_000, "AL001", 1),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_a_finding_not_a_traceback(tmp_path, name):
    data, code, line = HOSTILE[name]
    path = tmp_path / name
    path.write_bytes(data)
    result = run_archlint("check", "--format", "json", str(path))
    assert result.returncode == 1, result.stderr
    assert b"Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert (code, line) in [(f["rule_id"], f["line"]) for f in report["findings"]]


def test_empty_file_named_explicitly_is_an_info_and_passes(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    result = run_archlint("check", "--format", "json", str(path))
    assert result.returncode == 0
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule_id"], f["severity"]) for f in findings] == [("AL006", "info")]
