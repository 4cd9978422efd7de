"""archlint reads every real public template without a traceback or an internal error."""

from __future__ import annotations

import json

import pytest

from conftest import CORPUS, run_archlint

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def test_corpus_is_checked_without_crash_or_internal_error():
    result = run_archlint(
        "check", "--format", "json", "--fail-on", "never", str(CORPUS), timeout=300
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    report = json.loads(result.stdout)
    crashed = [f for f in report["findings"] if f["rule_id"] == "AL000"]
    assert crashed == [], crashed[:5]
    templates = [p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json")]
    # Every file of the corpus has a Resources mapping: all of them are checked.
    assert report["summary"]["files"] == len(templates)


def test_corpus_exit_status_follows_findings():
    result = run_archlint("check", "--format", "json", str(CORPUS), timeout=300)
    report = json.loads(result.stdout)
    assert result.returncode == (1 if report["summary"]["errors"] else 0)
