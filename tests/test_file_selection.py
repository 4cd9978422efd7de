"""Issue 12, item 2: which files `archlint check` looks at, as ruff chooses them.

.gitignore (nested) and .git/info/exclude, exclude/extend-exclude from the
config and the command line, --force-exclude for named files, PATH `.` by
default, quoted globs, the nearest config up to the repository root,
--stdin-filename, --quiet and --silent. All through the command line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import FIXTURES, run_archlint

BAD = FIXTURES / "AL102" / "bad.yaml"  # two AL102 errors

# A user rule loaded through rules-dirs: one warning on every template it sees.
MARKING_RULE = '''\
from archlint.rule import WARNING, Violation, rule


@rule(code="AL998", name="marked-template", requirement="TEST", severity=WARNING)
def marked(graph):
    """## What it does
    Marks every template, for the configuration tests.
    """
    yield Violation(None, "marked")
'''


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _template(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(BAD.read_bytes())
    return path


def _checked(*args: str, cwd: Path) -> set[str]:
    """The files a JSON run reported on ('/'-separated, as given)."""
    result = run_archlint("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    return {f["file"].replace(os.sep, "/") for f in report["findings"]}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with CDK and SAM build output, ignored the usual ways."""
    root = tmp_path / "repo"
    (root / ".git" / "info").mkdir(parents=True)
    _write(root / ".gitignore", "cdk.out/\n.aws-sam/build/\ngenerated/\n*.tmp.yaml\n")
    _write(root / ".git" / "info" / "exclude", "scratch/\n")
    _template(root / "stacks" / "web" / "site.yaml")
    _template(root / "stacks" / "api.yml")
    _template(root / "cdk.out" / "App.template.json")
    _template(root / ".aws-sam" / "build" / "template.yaml")
    _template(root / "generated" / "out.yaml")
    _template(root / "scratch" / "try.yaml")
    _template(root / "stacks" / "draft.tmp.yaml")
    # A nested .gitignore: relative to its own directory, with a re-inclusion.
    _write(root / "stacks" / "legacy" / ".gitignore", "*.yaml\n!keep.yaml\n")
    _template(root / "stacks" / "legacy" / "old.yaml")
    _template(root / "stacks" / "legacy" / "keep.yaml")
    return root


KEPT = {"stacks/web/site.yaml", "stacks/api.yml", "stacks/legacy/keep.yaml"}


def test_gitignore_nested_gitignore_and_git_info_exclude_are_respected(repo: Path):
    assert _checked(".", cwd=repo) == {f"./{p}" for p in KEPT}
    # Without the default excludes, .gitignore alone keeps the build output out.
    assert _checked("--exclude", "nothing-matches", ".", cwd=repo) == {f"./{p}" for p in KEPT}
    # From a subdirectory, the repository root's .gitignore still applies.
    assert _checked("--exclude", "none", "../", cwd=repo / "stacks") == {
        "../stacks/web/site.yaml",
        "../stacks/api.yml",
        "../stacks/legacy/keep.yaml",
    }


def test_default_excludes_apply_without_a_gitignore(tmp_path: Path):
    for name in ("cdk.out", ".aws-sam", "node_modules", ".venv", "build"):
        _template(tmp_path / name / "t.yaml")
    _template(tmp_path / "stacks" / "t.yaml")
    _template(tmp_path / ".github" / "stack.yaml")  # hidden is not excluded (ruff)
    assert _checked(cwd=tmp_path) == {"./stacks/t.yaml", "./.github/stack.yaml"}


def test_default_path_is_the_working_directory(repo: Path):
    result = run_archlint("check", cwd=repo / "stacks" / "web")
    assert result.returncode == 1
    assert b"site.yaml:24: error AL102" in result.stdout
    assert b"in 1 file." in result.stdout


def test_exclude_and_extend_exclude_from_config_and_command_line(tmp_path: Path):
    _template(tmp_path / "stacks" / "web.yaml")
    _template(tmp_path / "stacks" / "old" / "v1.yaml")
    _template(tmp_path / "cdk.out" / "App.template.json")
    _template(tmp_path / "sandbox" / "x.yaml")
    every = {
        "./stacks/web.yaml",
        "./stacks/old/v1.yaml",
        "./cdk.out/App.template.json",
        "./sandbox/x.yaml",
    }
    assert _checked(cwd=tmp_path) == every - {"./cdk.out/App.template.json"}
    # exclude replaces the defaults (cdk.out is checked again); anchored patterns
    # are relative to the config's directory.
    _write(tmp_path / ".archlint.yaml", "exclude: [/stacks/old]\n")
    assert _checked(cwd=tmp_path) == every - {"./stacks/old/v1.yaml"}
    # extend-exclude adds to the defaults.
    _write(tmp_path / ".archlint.yaml", "extend-exclude: [sandbox/]\n")
    assert _checked(cwd=tmp_path) == every - {"./cdk.out/App.template.json", "./sandbox/x.yaml"}
    # --exclude replaces the config's exclude; --extend-exclude adds to both.
    _write(tmp_path / ".archlint.yaml", "exclude: [/stacks/old]\n")
    assert _checked("--exclude", "sandbox", cwd=tmp_path) == every - {"./sandbox/x.yaml"}
    assert _checked("--extend-exclude", "sandbox,*.json", cwd=tmp_path) == {"./stacks/web.yaml"}
    # --isolated: the config's exclude goes with the rest of it.
    assert _checked("--isolated", "--exclude", "old/", cwd=tmp_path) == every - {
        "./stacks/old/v1.yaml"
    }
    # A wrong type in the config is a usage error naming the key.
    _write(tmp_path / ".archlint.yaml", "exclude: sandbox\n")
    result = run_archlint("check", cwd=tmp_path)
    assert result.returncode == 2 and b"exclude" in result.stderr


def test_a_named_file_is_checked_even_if_excluded_unless_force_exclude(repo: Path):
    named = "cdk.out/App.template.json"
    assert _checked(named, cwd=repo) == {named}
    assert _checked("--force-exclude", named, "stacks/api.yml", cwd=repo) == {"stacks/api.yml"}
    # Excluded through an excluded directory above it, or by the config.
    _write(repo / ".archlint.yaml", "extend-exclude: [stacks/web/]\n")
    assert _checked("--force-exclude", "stacks/web/site.yaml", cwd=repo) == set()
    assert _checked("stacks/web/site.yaml", cwd=repo) == {"stacks/web/site.yaml"}
    # A directory named on the command line is walked even if excluded.
    assert _checked("cdk.out", cwd=repo) == {"cdk.out/App.template.json"}
    assert _checked("--force-exclude", "cdk.out", cwd=repo) == set()
    # A file named on the command line is checked even if .gitignore'd (tracked).
    assert _checked("--force-exclude", "generated/out.yaml", cwd=repo) == {"generated/out.yaml"}


def test_pre_commit_hook_passes_force_exclude():
    hooks = (Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text()
    assert "entry: archlint check --force-exclude" in hooks


def test_quoted_glob_is_expanded_recursively(repo: Path):
    assert _checked("stacks/**/*.yaml", cwd=repo) == {
        "stacks/web/site.yaml",
        "stacks/legacy/keep.yaml",
    }
    assert _checked("stacks/*.yml", cwd=repo) == {"stacks/api.yml"}
    # A glob naming directories walks them (templates only, excludes applied).
    assert _checked("stack?/*", cwd=repo) == KEPT
    result = run_archlint("check", "nowhere/**/*.yml", cwd=repo)
    assert result.returncode == 2
    assert b"nowhere/**/*.yml: no file matches" in result.stderr
    assert b"Traceback" not in result.stderr


def test_glob_does_not_follow_a_link_out_of_its_directory(tmp_path: Path):
    _template(tmp_path / "outside" / "secret.yaml")
    stacks = tmp_path / "work" / "stacks"
    _template(stacks / "mine.yaml")
    (stacks / "linked.yaml").symlink_to(tmp_path / "outside" / "secret.yaml")
    (stacks / "loop").symlink_to(stacks, target_is_directory=True)
    assert _checked("stacks/**/*.yaml", cwd=tmp_path / "work") == {"stacks/mine.yaml"}
    assert _checked("stacks", cwd=tmp_path / "work") == {"stacks/mine.yaml"}


def test_missing_path_is_a_usage_error(tmp_path: Path):
    result = run_archlint("check", "no-such.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert b"no-such.yaml: no such file or directory" in result.stderr


def test_config_two_directories_up_is_found_and_its_paths_start_there(repo: Path):
    _write(repo / "ci" / "rules" / "marked.py", MARKING_RULE)
    _write(repo / ".archlint.yaml", "rules-dirs: [ci/rules]\nextend-exclude: [/stacks/api.yml]\n")
    result = run_archlint("check", "--format", "json", "..", cwd=repo / "stacks" / "web")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    marked = {f["file"] for f in findings if f["rule_id"] == "AL998"}
    assert marked == {"../web/site.yaml", "../legacy/keep.yaml"}  # api.yml excluded
    # pyproject.toml [tool.archlint] is found the same way.
    (repo / ".archlint.yaml").unlink()
    _write(repo / "pyproject.toml", '[tool.archlint]\nrules-dirs = ["ci/rules"]\n')
    result = run_archlint("check", "--format", "json", cwd=repo / "stacks" / "web")
    assert {f["rule_id"] for f in json.loads(result.stdout)["findings"]} == {"AL102", "AL998"}
    # --isolated reads none of them.
    result = run_archlint("check", "--isolated", "--format", "json", cwd=repo / "stacks" / "web")
    assert {f["rule_id"] for f in json.loads(result.stdout)["findings"]} == {"AL102"}


def test_config_above_the_repository_root_is_not_read(repo: Path):
    _write(repo.parent / ".archlint.yaml", "ignore: [AL102]\n")
    _write(repo.parent / "pyproject.toml", '[tool.archlint]\nignore = ["AL102"]\n')
    result = run_archlint("check", cwd=repo / "stacks")
    assert result.returncode == 1 and b"error AL102" in result.stdout
    # Outside any repository only the working directory's config is read.
    below = repo.parent / "plain" / "sub"
    _template(below / "t.yaml")
    assert run_archlint("check", cwd=below).returncode == 1
    assert run_archlint("check", cwd=repo.parent).returncode == 0  # its own: AL102 ignored


def test_stdin_filename_names_the_template_read_from_stdin(repo: Path):
    data = BAD.read_bytes()
    result = run_archlint(
        "check", "--stdin-filename", "stacks/edited.yaml", "-", stdin=data, cwd=repo
    )
    assert result.returncode == 1
    assert b"stacks/edited.yaml:24: error AL102" in result.stdout
    assert b"-:24" not in result.stdout
    # No PATH with --stdin-filename reads standard input, as in ruff.
    result = run_archlint("check", "--stdin-filename", "x.yaml", "--format", "json", stdin=data)
    assert {f["file"] for f in json.loads(result.stdout)["findings"]} == {"x.yaml"}
    # Exclude decisions use the name: skipped with --force-exclude.
    result = run_archlint(
        "check", "--force-exclude", "--stdin-filename", "cdk.out/App.json", "-", stdin=data
    )
    assert result.returncode == 0 and b"0 files checked" in result.stdout
    # A name without - to read is a usage error.
    result = run_archlint("check", "--stdin-filename", "x.yaml", "stacks", cwd=repo)
    assert result.returncode == 2 and b"--stdin-filename" in result.stderr


def test_quiet_prints_only_findings_and_silent_nothing(tmp_path: Path):
    bad = _template(tmp_path / "bad.yaml")
    quiet = run_archlint("check", "--quiet", str(bad))
    assert quiet.returncode == 1
    lines = quiet.stdout.decode().splitlines()
    assert len([line for line in lines if ": error AL102 " in line]) == 2
    assert not any("error" in line and " in 1 file" in line for line in lines)
    assert quiet.stderr == b""
    clean = run_archlint("check", "-q", str(FIXTURES / "AL102" / "good.yaml"))
    assert clean.returncode == 0 and clean.stdout == b""
    silent = run_archlint("check", "--silent", str(bad))
    assert (silent.returncode, silent.stdout, silent.stderr) == (1, b"", b"")
    # --output is still written; the stderr summary line is not.
    report = tmp_path / "r.json"
    silent = run_archlint("check", "--silent", "--format", "json", "-o", str(report), str(bad))
    assert (silent.returncode, silent.stdout, silent.stderr) == (1, b"", b"")
    assert len(json.loads(report.read_text())["findings"]) == 2
    both = run_archlint("check", "--quiet", "--silent", str(bad))
    assert both.returncode == 2 and b"not allowed with argument" in both.stderr
