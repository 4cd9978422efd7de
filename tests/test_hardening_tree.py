"""Issue 10: archlint reads nothing outside the checked tree and never goes online.

A nested stack's `TemplateURL` / `Location` and an `AWS::Include` `Location`
are the pull request author's: an absolute path, a `..` escape or a symlink
that leads out of the tree would make archlint read (and quote in its report)
files the author has no business seeing. The tree is the directory given on
the command line, or the repository root above the path (a `.git`), or the
checked file's folder. Each escape is an AL006 info naming the path; the file
is never opened, which an audit hook on `open` proves. And no check connects
anywhere: the SAM fixtures and the reference templates are checked in an empty
network namespace, under `strace -e trace=connect`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REFERENCES, ROOT

TIMEOUT = 120
SECRET = "OUTSIDE-SECRET"
IN_TREE = "IN-TREE-CHILD"
TEMPLATE_URL_LINE = 7


def _child(marker: str, nested: str | None = None) -> str:
    """A template whose AL102 finding quotes `marker`: it shows whether it was read."""
    stack = (
        f"  Grandchild:\n    Type: AWS::CloudFormation::Stack\n"
        f"    Properties:\n      TemplateURL: {nested}\n"
        if nested
        else ""
    )
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Distribution:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins:
          - Id: api
            DomainName: api.example.com
            CustomOriginConfig: {{OriginProtocolPolicy: https-only}}
        DefaultCacheBehavior:
          TargetOriginId: api
          CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
          ViewerProtocolPolicy: https-only
        CacheBehaviors:
          - PathPattern: /{marker}/*
            TargetOriginId: api
            CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
            ViewerProtocolPolicy: allow-all
{stack}"""


def _parent(location: str, kind: str = "AWS::CloudFormation::Stack") -> str:
    prop = "TemplateURL" if kind == "AWS::CloudFormation::Stack" else "Location"
    transform = "Transform: AWS::Serverless-2016-10-31\n" if "Serverless" in kind else ""
    # TemplateURL is on line 7 either way (the transform replaces the blank line).
    return (
        f'AWSTemplateFormatVersion: "2010-09-09"\n{transform or chr(10)}Resources:\n'
        f"  Child:\n    Type: {kind}\n    Properties:\n      {prop}: {json.dumps(location)}\n"
    )


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """tmp/outside/child.yaml (the secret), tmp/repo/.git, repo/stacks/, repo/shared/child.yaml."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "child.yaml").write_text(_child(SECRET))
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "stacks").mkdir()
    (repo / "shared").mkdir()
    (repo / "shared" / "child.yaml").write_text(_child(IN_TREE))
    return tmp_path


AUDITED = """
import json, os, sys
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes)):
        opened.append(os.path.realpath(os.fsdecode(args[0])))
sys.addaudithook(hook)
from archlint.cli import main
status = main(sys.argv[2:])
sys.stdout.flush()
with open(sys.argv[1], "w") as log:
    json.dump(opened, log)
sys.exit(status)
"""


def _check(tmp_path: Path, *args: str, cwd: Path | None = None, stdin: bytes | None = None):
    """`archlint check --format json ARGS` with every opened file recorded."""
    log = tmp_path / "opened.json"
    result = subprocess.run(
        [sys.executable, "-c", AUDITED, str(log), "check", "--format", "json", *args],
        capture_output=True,
        cwd=cwd or tmp_path,
        input=stdin,
        timeout=TIMEOUT,
        env=dict(os.environ, NO_COLOR="1"),
    )
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    report = json.loads(result.stdout)
    opened = json.loads(log.read_text())
    return result.returncode, report["findings"], opened, result.stdout.decode()


def _outside_opened(opened: list[str], layout: Path) -> list[str]:
    outside = os.path.realpath(layout / "outside")
    return [path for path in opened if path.startswith(outside)]


def _escape(location: str) -> tuple[str, str, int, str]:
    message = f"nested stack Child: template {location} is outside the checked tree; not read"
    return ("AL006", "info", TEMPLATE_URL_LINE, message)


def _findings(findings: list[dict]) -> list[tuple]:
    return [(f["rule_id"], f["severity"], f["line"], f["message"]) for f in findings]


@pytest.mark.parametrize(
    "name", ["dotdot", "absolute", "absolute-inside", "symlink", "symlinked-dir", "nul"]
)
def test_nested_template_outside_the_tree_is_an_info_and_not_read(layout: Path, name: str):
    stacks = layout / "repo" / "stacks"
    location = {
        "dotdot": "../../outside/child.yaml",
        "absolute": str(layout / "outside" / "child.yaml"),
        "absolute-inside": str(layout / "repo" / "shared" / "child.yaml"),
        "symlink": "./linked.yaml",
        "symlinked-dir": "out/child.yaml",
        "nul": "../shared/child.yaml\x00.yaml",
    }[name]
    (stacks / "linked.yaml").symlink_to(layout / "outside" / "child.yaml")
    (stacks / "out").symlink_to(layout / "outside", target_is_directory=True)
    (stacks / "parent.yaml").write_text(_parent(location))
    status, findings, opened, out = _check(layout, str(stacks / "parent.yaml"))
    assert status == 0
    assert _findings(findings) == [_escape(location)]
    assert findings[0]["file"] == str(stacks / "parent.yaml")
    assert SECRET not in out and IN_TREE not in out
    assert _outside_opened(opened, layout) == []


def test_nested_template_inside_the_repository_is_followed(layout: Path):
    stacks = layout / "repo" / "stacks"
    (stacks / "parent.yaml").write_text(_parent("../shared/child.yaml"))
    status, findings, _, _ = _check(layout, str(stacks / "parent.yaml"))
    assert status == 1
    (finding,) = findings
    assert finding["rule_id"] == "AL102" and IN_TREE in finding["message"]
    assert finding["file"] == str(layout / "repo" / "shared" / "child.yaml")


def test_without_a_repository_the_tree_is_the_named_directory_or_file_folder(layout: Path):
    shutil.rmtree(layout / "repo" / ".git")
    stacks = layout / "repo" / "stacks"
    (stacks / "parent.yaml").write_text(_parent("../shared/child.yaml"))
    # A file: its folder is the tree, ../shared is outside it.
    status, findings, _, _ = _check(layout, str(stacks / "parent.yaml"))
    assert status == 0 and _findings(findings) == [_escape("../shared/child.yaml")]
    # The folder named: the same.
    status, findings, _, _ = _check(layout, str(stacks))
    assert status == 0 and _findings(findings) == [_escape("../shared/child.yaml")]
    # Its parent named: ../shared is inside the tree now (and checked on its own too).
    status, findings, _, _ = _check(layout, str(layout / "repo"))
    assert status == 1 and {f["rule_id"] for f in findings} == {"AL102"}
    assert all(IN_TREE in f["message"] for f in findings)


def test_a_child_in_the_tree_cannot_lead_out_either(layout: Path):
    (layout / "repo" / "shared" / "child.yaml").write_text(
        _child(IN_TREE, nested="../../outside/child.yaml")
    )
    stacks = layout / "repo" / "stacks"
    (stacks / "parent.yaml").write_text(_parent("../shared/child.yaml"))
    status, findings, opened, out = _check(layout, str(stacks / "parent.yaml"))
    assert status == 1 and SECRET not in out
    assert any(f["rule_id"] == "AL102" and IN_TREE in f["message"] for f in findings)
    assert _outside_opened(opened, layout) == []


def test_standard_input_resolves_inside_the_working_directory_tree(layout: Path):
    stacks = layout / "repo" / "stacks"
    location = "../../outside/child.yaml"
    parent = _parent(location).encode()
    status, findings, opened, out = _check(layout, "-", cwd=stacks, stdin=parent)
    assert status == 0 and _findings(findings) == [_escape(location)]
    assert SECRET not in out and _outside_opened(opened, layout) == []


def test_sam_application_outside_the_tree_is_an_info_and_not_read(layout: Path):
    stacks = layout / "repo" / "stacks"
    location = "../../outside/child.yaml"
    (stacks / "app.yaml").write_text(_parent(location, "AWS::Serverless::Application"))
    status, findings, opened, out = _check(layout, str(stacks / "app.yaml"))
    assert status == 0
    (finding,) = findings
    rule_id, severity, _, message = _escape(location)
    assert (finding["rule_id"], finding["severity"], finding["message"]) == (
        rule_id,
        severity,
        message,
    )
    assert finding["line"] in (6, 7)  # the translated stack's Properties or its Location
    assert SECRET not in out and _outside_opened(opened, layout) == []


INCLUDES = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionBody:
        Fn::Transform:
          Name: AWS::Include
          Parameters:
            Location: {location}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Fn::Transform:
        Name: AWS::Include
        Parameters:
          Location: {location}
"""


@pytest.mark.parametrize("kind", ["dotdot", "absolute"])
def test_aws_include_outside_the_tree_is_not_read(layout: Path, kind: str):
    location = {
        "dotdot": "../../outside/child.yaml",
        "absolute": str(layout / "outside" / "child.yaml"),
    }[kind]
    stacks = layout / "repo" / "stacks"
    (stacks / "include.yaml").write_text(INCLUDES.format(location=json.dumps(location)))
    status, findings, opened, out = _check(layout, str(stacks / "include.yaml"))
    assert status in (0, 1)
    assert SECRET not in out and _outside_opened(opened, layout) == []
    assert all(f["rule_id"] != "AL001" for f in findings)


# -- never online -------------------------------------------------------------------


def _sam_templates() -> list[str]:
    found = []
    for base in (FIXTURES, ROOT / "tests" / "data"):
        for path in sorted(base.rglob("*.yaml")):
            if b"AWS::Serverless-2016-10-31" in path.read_bytes():
                found.append(str(path))
    return found


STRACE = ("strace", "-f", "-qq", "-e", "trace=connect", "-o")


def _unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _strace_works(tmp_path: Path) -> bool:
    """strace runs here and sees a connect() (so that seeing none means something)."""
    if not shutil.which("strace"):
        return False
    trace = tmp_path / "probe.trace"
    probe = (
        "import socket\ns = socket.socket()\ns.settimeout(0.1)\n"
        "s.connect_ex(('192.0.2.1', 9))\n"  # TEST-NET-1: never answers
    )
    try:
        subprocess.run(
            [*STRACE, str(trace), sys.executable, "-c", probe],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return trace.exists() and "192.0.2.1" in trace.read_text()


def _non_local_connects(trace: str) -> list[str]:
    """connect() calls to anything but a Unix socket or the loopback address."""
    local = ("sa_family=AF_UNIX", 'inet_addr("127.', 'inet_pton(AF_INET6, "::1"')
    return [
        line
        for line in trace.splitlines()
        if "connect(" in line and not any(m in line for m in local)
    ]


def test_checking_sam_and_reference_templates_never_connects(tmp_path: Path):
    sam = _sam_templates()
    assert len(sam) >= 20, "the SAM fixtures moved"
    prefix: list[str] = []
    if not _unshare_works():
        pytest.skip("unshare -n (an empty network namespace) is refused here")
    prefix += ["unshare", "-n"]
    trace = tmp_path / "connect.trace"
    traced = _strace_works(tmp_path)
    if traced:
        prefix += [*STRACE, str(trace)]
    command = [sys.executable, "-m", "archlint", "check", "--format", "json", "--fail-on", "never"]
    result = subprocess.run(
        [*prefix, *command, *sam, str(REFERENCES)],
        capture_output=True,
        timeout=TIMEOUT * 2,
        env=dict(os.environ, NO_COLOR="1"),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == len(sam) + 6
    # A SAR application is translated offline: a placeholder and an info, no lookup.
    assert any("Serverless Application Repository" in f["message"] for f in report["findings"])
    if traced:
        calls = trace.read_text()
        assert _non_local_connects(calls) == [], calls


def test_a_link_out_of_the_walked_directory_is_not_followed(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("Resources:\n  Key:\n    Type: AWS::IAM::AccessKey\n")
    checked = tmp_path / "repo"
    checked.mkdir()
    (checked / "stolen.yaml").symlink_to(outside)
    (checked / "inner.yaml").write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    (checked / "alias.yaml").symlink_to(checked / "inner.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "archlint", "check", "--format", "json", str(checked)],
        capture_output=True,
        timeout=60,
    )
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == 2  # inner.yaml and the link inside the tree
    assert all("stolen" not in f["file"] for f in report["findings"])
    assert result.returncode == 0
