"""Hostile inputs from a pull request: cyclic aliases, files that are not files,
numbers Python will not convert, a reader that goes away. Each is answered
with a finding and an exit status within a time bound, never a hang or a
traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from archlint import safeio
from archlint.loader import load
from conftest import FIXTURES, ROOT, run_archlint

TIMEOUT = 30  # generous: each of these finishes in well under a second


def check_json(*paths: str, timeout: float = TIMEOUT) -> tuple[int, list[dict], float]:
    start = time.monotonic()
    result = run_archlint("check", "--format", "json", *paths, timeout=timeout)
    seconds = time.monotonic() - start
    assert b"Traceback" not in result.stderr, result.stderr.decode()[-2000:]
    assert result.returncode in (0, 1), result.stderr.decode()[-2000:]
    return result.returncode, json.loads(result.stdout)["findings"], seconds


# -- cyclic aliases ----------------------------------------------------------------

CYCLES = {
    "sequence": (b"x: &a [*a]\n", 1),
    "mapping": (b"a: &x {b: *x}\n", 1),
    "deeper": (b"top:\n  n: &n\n    kids:\n      - name: leaf\n      - *n\n", 2),
    "merge": (b"Q: &q\n  Type: AWS::SQS::Queue\n  Properties:\n    <<: *q\n", 1),
    "key": (b"? &k [*k]\n: 1\n", 1),
}


@pytest.mark.parametrize("name", sorted(CYCLES))
def test_cyclic_alias_is_a_load_problem_with_its_line(name):
    data, line = CYCLES[name]
    start = time.monotonic()
    loaded = load(data)
    assert time.monotonic() - start < 5
    assert loaded.root is None
    [problem] = loaded.problems
    assert problem.severity == "error" and problem.line == line
    assert "contains itself through an alias" in problem.message


def test_aliases_to_siblings_are_no_cycle():
    loaded = load(b"a: &a [1, 2]\nb: [*a, *a]\nc: &c {k: *a}\nd: *c\n")
    assert loaded.problems == []
    assert loaded.root == {
        "a": [1, 2],
        "b": [[1, 2], [1, 2]],
        "c": {"k": [1, 2]},
        "d": {"k": [1, 2]},
    }


def test_cyclic_alias_in_a_template_is_al001_at_its_line(tmp_path):
    path = tmp_path / "cycle.yaml"
    path.write_text(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: &p\n      Tags: [*p]\n"
    )
    code, findings, seconds = check_json(str(path))
    assert code == 1
    assert [(f["rule_id"], f["line"]) for f in findings] == [("AL001", 4)]
    assert "&p" in findings[0]["message"]
    assert seconds < TIMEOUT


@pytest.mark.parametrize("text", ["x: &a [*a]\n", "a: &x {b: *x}\n"])
def test_bare_cyclic_file_finishes(tmp_path, text):
    """The issue's own reproducers: they hung with growing memory."""
    path = tmp_path / "bare.yaml"
    path.write_text(text)
    code, findings, _ = check_json(str(path))
    # Whether a broken file without a template's marks is reported is the
    # engine's call (AL001 when it is); it is never expanded, never a hang.
    assert all((f["rule_id"], f["line"]) == ("AL001", 1) for f in findings)
    assert code == (1 if findings else 0)


def test_alias_bomb_bound_still_holds():
    lines = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    [problem] = load(("\n".join(lines) + "\n").encode()).problems
    assert "alias bomb" in problem.message


# -- only regular files ----------------------------------------------------------


def _fifo(path):
    os.mkfifo(path)
    return path


def _socket(path):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return server


def _zero_link(path):
    os.symlink("/dev/zero", path)
    return path


@pytest.fixture
def special_files(tmp_path):
    """A directory with a real template and a FIFO, a socket and a /dev/zero link
    named like templates."""
    directory = tmp_path / "repo"
    directory.mkdir()
    (directory / "bad.yaml").write_bytes((FIXTURES / "AL102" / "bad.yaml").read_bytes())
    _fifo(directory / "fifo.yaml")
    _zero_link(directory / "zero.yaml")
    server = _socket(directory / "sock.yaml")
    yield directory
    server.close()


KINDS = {"fifo.yaml": "named pipe (FIFO)", "zero.yaml": "character device", "sock.yaml": "socket"}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_named_special_file_is_al001_and_never_opened(special_files, name):
    code, findings, _ = check_json(str(special_files / name))
    assert code == 1
    [finding] = findings
    assert finding["rule_id"] == "AL001"
    assert KINDS[name] in finding["message"] and "not a regular file" in finding["message"]


def test_special_files_in_a_walked_directory_are_skipped(special_files):
    code, findings, _ = check_json(str(special_files))
    assert code == 1
    assert {os.path.basename(f["file"]) for f in findings} == {"bad.yaml"}
    assert {f["rule_id"] for f in findings} == {"AL102"}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_named_fifo_does_not_block_a_parallel_run(special_files, jobs):
    result = run_archlint(
        "check", "--format", "json", "--jobs", jobs, str(special_files / "fifo.yaml"),
        str(special_files / "bad.yaml"), timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 1
    ids = {
        (os.path.basename(f["file"]), f["rule_id"]) for f in json.loads(result.stdout)["findings"]
    }
    assert ("fifo.yaml", "AL001") in ids and ("bad.yaml", "AL102") in ids


def test_read_is_bounded_by_the_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 1000)
    assert len(safeio.read_regular(str(path), 10)) == 11
    # A file whose size lies (procfs says 0) is read, and still bounded.
    assert 0 < len(safeio.read_regular("/proc/self/status", 100)) <= 101


def test_read_refuses_before_opening(tmp_path):
    fifo = _fifo(tmp_path / "f.yaml")
    start = time.monotonic()
    with pytest.raises(safeio.NotRegularFile):
        safeio.read_regular(str(fifo), 100)
    assert time.monotonic() - start < 5
    assert not safeio.is_regular(str(fifo)) and not safeio.is_regular("/dev/null")


# -- numbers Python will not convert ---------------------------------------------

DIGITS = "9" * 5000
QUEUE = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: {}\n"


@pytest.mark.parametrize(
    "name, text",
    [
        ("n.json", '{"Resources": {"Q": {"Type": "AWS::SQS::Queue", '
         f'"Properties": {{"DelaySeconds": {DIGITS}}}}}}}}}'),
        ("n.yaml", QUEUE.format(DIGITS)),
        ("hex.yaml", QUEUE.format("0x" + "f" * 5000)),
        ("sexagesimal.yaml", QUEUE.format(":".join(["59"] * 5000))),
    ],
)  # fmt: skip
def test_five_thousand_digit_number_keeps_the_run_going(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    other = tmp_path / "other.yaml"
    other.write_bytes((FIXTURES / "AL102" / "bad.yaml").read_bytes())
    code, findings, _ = check_json(str(tmp_path / name), str(other))
    assert code == 1
    assert {f["rule_id"] for f in findings if f["file"].endswith("other.yaml")} == {"AL102"}
    assert not [f for f in findings if f["file"].endswith(name) and f["rule_id"] == "AL000"]


def test_long_numbers_load_as_text():
    assert load(f"a: {DIGITS}\nb: 12\n".encode()).root == {"a": DIGITS, "b": 12}
    assert load(f'{{"a": {DIGITS}, "b": -12}}'.encode()).root == {"a": DIGITS, "b": -12}


# -- a reader that goes away ---------------------------------------------------


def _many_bad(tmp_path, count=200):
    directory = tmp_path / "many"
    directory.mkdir()
    text = (FIXTURES / "AL102" / "bad.yaml").read_bytes()
    for i in range(count):
        (directory / f"t{i:03}.yaml").write_bytes(text)
    return directory


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_closed_stdout_keeps_exit_status_one(tmp_path, fmt):
    directory = _many_bad(tmp_path)
    archlint = f"{sys.executable} -m archlint"
    for target in (str(FIXTURES / "AL102" / "bad.yaml"), str(directory)):
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", f"{archlint} check --format {fmt} {target} | head -1"],
            capture_output=True,
            cwd=ROOT,
            timeout=TIMEOUT,
            env=dict(os.environ, NO_COLOR="1"),
        )
        assert result.returncode == 1, result.stderr.decode()[-2000:]
        assert b"Traceback" not in result.stderr and b"BrokenPipe" not in result.stderr
        assert len(result.stdout.splitlines()) == 1


def test_closed_stdout_with_nothing_to_fail_on_exits_zero(tmp_path):
    directory = _many_bad(tmp_path)
    archlint = f"{sys.executable} -m archlint"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{archlint} check --fail-on never {directory} | head -1"],
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0 and b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"x: &a [*a]\n", "contains itself through an alias"),
        ("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n".encode("utf-16-le"), "NUL byte"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00", "NUL byte"),
    ],
    ids=["alias-cycle", "utf-16-without-bom", "binary"],
)
def test_a_named_file_that_cannot_be_read_is_reported_not_skipped(tmp_path, content, words):
    path = tmp_path / "template.yaml"
    path.write_bytes(content)
    result = run_archlint("check", "--format", "json", str(path), timeout=30)
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["rule_id"] == "AL001" and words in finding["message"]
