"""archlint as a pre-commit hook: the real `pre-commit try-repo` on this checkout.

`try-repo` installs the hook repository into a fresh virtualenv with pip, as
a user's `pre-commit install` would, then runs `archlint check` on the files.
It clones the repository's HEAD and adds uncommitted changes of tracked files
only (pre_commit/commands/try_repo.py, `git add -u`), so new files in a
working tree would be missed: the test commits a snapshot of the working tree
in a temporary repository and tries that.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from conftest import FIXTURES, ROOT, installed_tool

SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "venv",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".benchmarks",
    "build",
    "dist",
    "bench-results",
)


def _env() -> dict[str, str]:
    # A pytest run from inside a git hook inherits GIT_DIR and friends; the
    # temporary repositories must not.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="archlint tests",
        GIT_AUTHOR_EMAIL="tests@archlint.invalid",
        GIT_COMMITTER_NAME="archlint tests",
        GIT_COMMITTER_EMAIL="tests@archlint.invalid",
        NO_COLOR="1",
    )
    return env


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )


def _repository(path: Path) -> None:
    _git("init", "--quiet", cwd=path)
    _git("add", "--all", cwd=path)
    _git("commit", "--quiet", "--message", "snapshot", cwd=path)


def test_hook_manifest_is_valid_for_pre_commit():
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "archlint" and hook["language"] == "python"
    assert hook["entry"] == "archlint check --force-exclude" and hook["pass_filenames"] is True
    assert hook["types"] == ["file"]
    pattern = re.compile(hook["files"])
    for name in ("a.yaml", "b.yml", "c.json", "d.template", "stacks/e.yaml"):
        assert pattern.search(name), name
    for name in ("README.md", "yaml.py", "template.txt"):
        assert not pattern.search(name), name


def test_readme_pre_commit_config_is_valid(tmp_path: Path):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    config = next(b for b in blocks if "repos:" in b and "id: archlint" in b)
    (tmp_path / ".pre-commit-config.yaml").write_text(config)
    result = subprocess.run(
        [installed_tool("pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (repo,) = yaml.safe_load(config)["repos"]
    assert [h["id"] for h in repo["hooks"]] == ["archlint"]


def test_try_repo_fails_a_bad_template_and_passes_a_good_one(tmp_path: Path):
    hooks = tmp_path / "archlint"
    shutil.copytree(ROOT, hooks, ignore=SNAPSHOT_IGNORE)
    _repository(hooks)

    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(FIXTURES / "AL102" / "bad.yaml", project / "stacks" / "bad.yaml")
    shutil.copy(FIXTURES / "AL102" / "good.yaml", project / "stacks" / "good.yaml")
    # YAML that is not CloudFormation: archlint skips it, the hook passes
    (project / "ci.yml").write_text("jobs:\n  test:\n    script: [make test]\n")
    _repository(project)

    def try_repo(*files: str) -> subprocess.Popen:
        return subprocess.Popen(
            [installed_tool("pre-commit"), "try-repo", str(hooks), "archlint", "--files", *files],
            cwd=project,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    # Each try-repo builds its own virtualenv with pip: run both at once.
    bad, good = try_repo("stacks/bad.yaml"), try_repo("stacks/good.yaml", "ci.yml")
    bad_out, _ = bad.communicate(timeout=900)
    good_out, _ = good.communicate(timeout=900)

    assert bad.returncode == 1, bad_out
    assert re.search(r"archlint\.+Failed", bad_out), bad_out
    assert "stacks/bad.yaml:24: error AL102 cloudfront-allows-http [SiteDistribution]" in bad_out
    assert "2 errors, 0 warnings in 1 file." in bad_out

    assert good.returncode == 0, good_out
    assert re.search(r"archlint\.+Passed", good_out), good_out
    assert "AL102" not in good_out
