"""The outside contract of `archlint check` and friends (../shared/spec/cli.md)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, REFERENCES, run_archlint

BAD = FIXTURES / "AL102" / "bad.yaml"
GOOD = FIXTURES / "AL102" / "good.yaml"


def test_version_and_help():
    result = run_archlint("--version")
    assert result.returncode == 0 and result.stdout.startswith(b"archlint ")
    assert run_archlint().returncode == 2


def test_clean_template_exits_zero_with_summary():
    result = run_archlint("check", str(GOOD))
    assert result.returncode == 0
    assert b"All checks passed" in result.stdout


def test_findings_exit_one_with_file_line_rule_and_fix():
    result = run_archlint("check", str(BAD))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert f"{BAD}:24: error AL102 cloudfront-allows-http [SiteDistribution]" in out
    assert "fix: Set ViewerProtocolPolicy" in out
    assert "\x1b[" not in out, "no colours when not on a terminal"
    assert out.rstrip().endswith("2 errors, 0 warnings in 1 file.")


def test_json_report_shape_and_order():
    result = run_archlint("check", "--format", "json", str(FIXTURES / "AL102"))
    report = json.loads(result.stdout)
    assert set(report) == {"version", "findings", "summary"}
    keys = {"rule_id", "requirement", "severity", "file", "resource", "line", "message", "fix"}
    assert all(keys <= set(f) for f in report["findings"])
    order = [(f["file"], f["line"], f["rule_id"]) for f in report["findings"]]
    assert order == sorted(order)
    assert report["summary"] == {
        "files": 3,
        "errors": 3,
        "warnings": 0,
        "infos": 0,
        "suppressed": 0,
    }


def test_fail_on_threshold():
    assert run_archlint("check", "--fail-on", "never", str(BAD)).returncode == 0
    empty = FIXTURES.parent / "tests" / "data" / "README.md"
    assert run_archlint("check", "--fail-on", "info", str(empty)).returncode == 0


def test_select_and_ignore():
    assert run_archlint("check", "--ignore", "AL102", str(BAD)).returncode == 0
    assert run_archlint("check", "--select", "AL101", str(BAD)).returncode == 0
    assert run_archlint("check", "--select", "cloudfront-allows-http", str(BAD)).returncode == 1
    result = run_archlint("check", "--select", "AL999", str(BAD))
    assert result.returncode == 2 and b"no rule matches 'AL999'" in result.stderr


def test_unknown_architecture_is_a_usage_error_listing_known_ones():
    result = run_archlint("check", "--architecture", "paid-contents", str(GOOD))
    assert result.returncode == 2
    assert b"paid-content" in result.stderr and b"mobile-app" in result.stderr
    assert b"Traceback" not in result.stderr


def test_missing_path_is_a_usage_error():
    result = run_archlint("check", "does-not-exist.yaml")
    assert result.returncode == 2 and b"no such file" in result.stderr


def test_stdin(tmp_path):
    result = run_archlint("check", "-", stdin=BAD.read_bytes())
    assert result.returncode == 1
    assert b"-:24: error AL102" in result.stdout


def test_directory_discovery_skips_non_templates(tmp_path):
    (tmp_path / "ci.yml").write_text("on: push\njobs: {}\n")
    (tmp_path / "broken-ci.yml").write_text("on: [push\n")
    (tmp_path / "notes.txt").write_text("Resources: nope")
    nested = tmp_path / "stacks" / "web"
    nested.mkdir(parents=True)
    (nested / "site.template").write_bytes(BAD.read_bytes())
    result = run_archlint("check", "--format", "json", str(tmp_path))
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == 1
    assert {f["file"] for f in report["findings"]} == {str(nested / "site.template")}


def test_suppression_with_and_without_reason(tmp_path):
    text = BAD.read_text().replace(
        "  SiteDistribution:\n    Type: AWS::CloudFront::Distribution\n",
        "  SiteDistribution:\n    Type: AWS::CloudFront::Distribution\n"
        "    Metadata:\n      archlint:\n        ignore:\n"
        "          - {rule: cloudfront-allows-http, reason: internal dashboard on HTTP}\n",
    )
    path = tmp_path / "suppressed.yaml"
    path.write_text(text)
    result = run_archlint("check", "--format", "json", str(path))
    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert report["findings"] == [] and report["summary"]["suppressed"] == 2
    shown = json.loads(
        run_archlint("check", "--format", "json", "--show-suppressed", str(path)).stdout
    )
    assert {f["suppression_reason"] for f in shown["findings"]} == {"internal dashboard on HTTP"}

    no_reason = tmp_path / "no-reason.yaml"
    no_reason.write_text(
        text.replace("{rule: cloudfront-allows-http, reason: internal dashboard on HTTP}", "AL102")
    )
    report = json.loads(run_archlint("check", "--format", "json", str(no_reason)).stdout)
    assert [(f["rule_id"], f["severity"]) for f in report["findings"]] == [("AL004", "warning")]


def test_config_file_sets_options_and_rejects_unknown_keys(tmp_path):
    (tmp_path / ".archlint.yaml").write_text("ignore: [AL102]\nfail-on: warning\n")
    assert run_archlint("check", str(BAD), cwd=tmp_path).returncode == 0
    (tmp_path / ".archlint.yaml").write_text("ignores: [AL102]\n")
    result = run_archlint("check", str(BAD), cwd=tmp_path)
    assert result.returncode == 2 and b"ignores" in result.stderr


def test_pyproject_table_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.archlint]\nselect = ["AL101"]\n')
    assert run_archlint("check", str(BAD), cwd=tmp_path).returncode == 0


def test_a_rule_that_raises_is_reported_and_the_others_still_run(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.py").write_text(
        textwrap.dedent('''
        from archlint.rule import ERROR, rule

        @rule(code="AL990", name="always-crashes", requirement="TEST", severity=ERROR,
              resource_types=("AWS::CloudFront::Distribution",))
        def always_crashes(resource, graph):
            """## What it does
            Crashes."""
            raise KeyError("boom")
    ''')
    )
    result = run_archlint("check", "--format", "json", "--rules-dir", str(rules), str(BAD))
    report = json.loads(result.stdout)
    ids = [f["rule_id"] for f in report["findings"]]
    assert "AL000" in ids and ids.count("AL102") == 2
    crash = next(f for f in report["findings"] if f["rule_id"] == "AL000")
    assert "AL990" in crash["message"] and "KeyError" in crash["message"]
    assert crash["resource"] == "SiteDistribution"


def test_list_rules_and_explain():
    listing = run_archlint("list-rules", "--format", "json")
    rules = json.loads(listing.stdout)
    assert {"AL101", "AL102", "AL103", "AL104", "AL201"} <= {r["code"] for r in rules}
    explained = run_archlint("explain", "AL102").stdout.decode()
    assert "## Why is this bad?" in explained
    assert "## Example" in explained and "allow-all" in explained
    assert "## Use instead" in explained and "redirect-to-https" in explained
    assert run_archlint("explain", "AL999").returncode == 2


@pytest.mark.parametrize("name", ["paid-content", "mobile-app"])
def test_init_writes_the_reference(tmp_path, name):
    out = tmp_path / "t.yaml"
    assert run_archlint("init", name, "-o", str(out)).returncode == 0
    assert out.read_text() == (REFERENCES / f"{name}.yaml").read_text()
    assert run_archlint("init", name, "-o", str(out)).returncode == 2  # no overwrite
    assert run_archlint("init", "nope").returncode == 2


def test_output_file_and_statistics(tmp_path):
    out = tmp_path / "report.json"
    result = run_archlint("check", "--format", "json", "--output", str(out), str(BAD))
    assert result.returncode == 1 and json.loads(out.read_text())["summary"]["errors"] == 2
    stats = run_archlint("check", "--statistics", str(BAD)).stdout.decode()
    assert "    2\tAL102\tcloudfront-allows-http" in stats


def test_github_annotations():
    out = run_archlint("check", "--format", "github", str(BAD)).stdout.decode()
    assert f"::error file={BAD},line=24,title=AL102 cloudfront-allows-http::" in out


def test_references_pass_every_rule():
    result = run_archlint("check", str(REFERENCES))
    assert result.returncode == 0, result.stdout.decode()
    assert b"All checks passed: 6 files checked." in result.stdout


def test_references_declare_their_architecture():
    from archlint.rule import ARCHITECTURES
    from archlint.template import Template

    for name in ARCHITECTURES:
        path = Path(REFERENCES / f"{name}.yaml")
        template = Template.from_bytes(str(path), path.read_bytes())
        assert template.declared_architectures() == [name]
