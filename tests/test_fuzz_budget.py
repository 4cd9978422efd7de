"""The coverage-guided fuzz target runs for a fixed budget and finds nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pytest.importorskip("atheris", reason="atheris has wheels for Linux x86_64 only")

RUNS = 40_000
SECONDS = 30


def test_fuzz_target_survives_a_fixed_budget(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "fuzz" / "seeds", corpus)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz" / "fuzz_loader.py"),
            "-seed=1",
            f"-runs={RUNS}",
            f"-max_total_time={SECONDS}",
            "-rss_limit_mb=2048",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS * 3,
        cwd=tmp_path,
    )
    log = result.stderr[-3000:]
    assert result.returncode == 0, log
    assert "INITED" in result.stderr and "Done" in log
    assert not list(tmp_path.glob("crash-*")), log
