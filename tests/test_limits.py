"""Huge and explosive inputs are answered within a time and memory budget."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import pytest

MEMORY_LIMIT = 1536 * 1024 * 1024  # address space, bytes
TIME_LIMIT = 60


def run_limited(path) -> tuple[subprocess.CompletedProcess, float]:
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "archlint", "check", "--format", "json", str(path)],
        capture_output=True,
        timeout=TIME_LIMIT,
        preexec_fn=limit,
    )
    return result, time.perf_counter() - start


def rule_ids(result) -> list[str]:
    assert b"Traceback" not in result.stderr, result.stderr.decode()[-2000:]
    return [f["rule_id"] for f in json.loads(result.stdout)["findings"]]


def test_fifty_megabyte_file_is_refused_with_a_finding(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.write(b"Resources:\n")
        chunk = b"".join(b"  Q%d:\n    Type: AWS::SQS::Queue\n" % i for i in range(100_000))
        while handle.tell() < 50_000_000:
            handle.write(chunk)
    result, seconds = run_limited(path)
    assert result.returncode == 1
    assert rule_ids(result) == ["AL001"]
    assert seconds < 10


def test_billion_laughs_is_refused_within_budget(tmp_path):
    lines = [
        "Resources:",
        "  Q: {Type: AWS::SQS::Queue}",
        "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    ]
    for i in range(1, 10):
        lines.append(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    result, seconds = run_limited(path)
    assert result.returncode == 1 and rule_ids(result) == ["AL001"]
    assert seconds < 10


@pytest.mark.parametrize("style", ["flow", "block", "json"])
def test_ten_thousand_levels_of_nesting_within_budget(tmp_path, style):
    depth = 10_000
    if style == "flow":
        text = "Resources: " + "[" * depth + "]" * depth
    elif style == "block":
        text = "Resources:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth))
    else:
        text = '{"Resources": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    path = tmp_path / f"deep-{style}.{'json' if style == 'json' else 'yaml'}"
    path.write_text(text)
    result, seconds = run_limited(path)
    assert result.returncode == 1 and rule_ids(result) == ["AL001"]
    assert seconds < 20
