"""Huge and explosive inputs are answered within a time and memory budget."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from conftest import FIXTURES as ROOT_FIXTURES

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


# -- parallel runs: Ctrl-C and a worker that dies ------------------------------------


def _templates(tmp_path, count: int):
    """A directory of `count` copies of the reference architectures (seconds of work)."""
    from conftest import REFERENCES

    sources = sorted(REFERENCES.glob("*.yaml"))
    directory = tmp_path / "estate"
    directory.mkdir()
    for i in range(count):
        (directory / f"t{i:03}.yaml").write_bytes(sources[i % len(sources)].read_bytes())
    return directory


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found |= {int(c) for c in handle.read().split()}
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
@pytest.mark.parametrize("target", ["process", "group"])
def test_ctrl_c_stops_a_parallel_run_without_orphans(tmp_path, target):
    directory = _templates(tmp_path, 400)
    process = subprocess.Popen(
        [sys.executable, "-m", "archlint", "check", "--jobs", "2", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own group: Ctrl-C in a terminal signals the group
    )
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
        workers |= _children(process.pid)
        time.sleep(0.01)
    assert len(workers) >= 2, "the pool never started"
    time.sleep(0.2)
    workers |= _children(process.pid)
    start = time.monotonic()
    if target == "group":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    code = process.wait(timeout=TIME_LIMIT)
    seconds = time.monotonic() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert code == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert seconds < 5  # within a second on an idle machine; generous on a shared one
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)], "orphan worker processes"


@pytest.mark.parametrize(
    "fault, cause",
    [("kill", "killed by SIGKILL"), ("memory", "MemoryError")],
)
def test_a_worker_that_dies_is_al000_for_its_file_and_the_rest_is_checked(tmp_path, fault, cause):
    from archlint.parallel import FAULT_ENV

    directory = tmp_path / "estate"
    directory.mkdir()
    bad = (ROOT_FIXTURES / "AL102" / "bad.yaml").read_bytes()
    for i in range(120):
        (directory / f"t{i:03}.yaml").write_bytes(bad)
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "archlint", "check", "--format", "json", "--jobs", "2",
         str(directory)],
        capture_output=True,
        timeout=TIME_LIMIT,
        env=dict(os.environ, **{FAULT_ENV: f"{fault}:t042.yaml"}),
    )  # fmt: skip
    assert time.monotonic() - start < TIME_LIMIT
    assert result.returncode == 1
    findings = json.loads(result.stdout)["findings"]
    assert b"Traceback" not in result.stderr
    failed = [f for f in findings if f["rule_id"] == "AL000"]
    assert [os.path.basename(f["file"]) for f in failed] == ["t042.yaml"]
    assert cause in failed[0]["message"] and "loading and checking" in failed[0]["message"]
    checked = {os.path.basename(f["file"]) for f in findings if f["rule_id"] == "AL102"}
    assert checked == {f"t{i:03}.yaml" for i in range(120)} - {"t042.yaml"}
    assert json.loads(result.stdout)["summary"]["files"] == 120


def test_the_fault_hook_does_nothing_in_process(tmp_path):
    """The hook acts in worker processes only: a one-file run is never killed."""
    from archlint.parallel import FAULT_ENV

    path = tmp_path / "t000.yaml"
    path.write_bytes((ROOT_FIXTURES / "AL102" / "bad.yaml").read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "archlint", "check", "--format", "json", str(path)],
        capture_output=True,
        timeout=TIME_LIMIT,
        env=dict(os.environ, **{FAULT_ENV: "kill:t000.yaml"}),
    )
    assert result.returncode == 1
    assert {f["rule_id"] for f in json.loads(result.stdout)["findings"]} == {"AL102"}
