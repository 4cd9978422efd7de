"""From a template path to archlint findings, for tools that host archlint's rules.

checkov and cfn-lint ask about one template many times (once per resource and
check, once per rule); archlint must run once per file, so results are cached
per (absolute path, mtime, size). The host tool may live in another Python
environment than archlint (pipx, a container): when `archlint` cannot be
imported here, the same answers come from the `archlint` command (`list-rules
--format json`, `check --format json`) run as a subprocess.

This module imports nothing but the standard library at import time, so a
plugin can load it by file path when the `archlint` package is not importable.
"""

from __future__ import annotations

import importlib
import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

# A command line that runs archlint, e.g. "pipx run archlint" or
# "/opt/archlint/bin/python -m archlint"; default: `archlint` on PATH.
COMMAND_ENV = "ARCHLINT_COMMAND"
SUBPROCESS_TIMEOUT = 600


class ArchlintUnavailable(Exception):
    """Neither the archlint package nor the archlint command can be used."""


@dataclass(frozen=True)
class RuleInfo:
    """What a host tool needs to know about one archlint rule."""

    code: str
    name: str
    requirement: str
    severity: str
    title: str
    help_uri: str


@dataclass(frozen=True)
class Finding:
    """One active (not suppressed) archlint finding in a template."""

    rule_id: str
    severity: str
    resource: str | None
    line: int | None
    message: str
    fix: str = ""


@dataclass
class FileResult:
    """archlint's verdict on one file: findings, or why archlint itself failed."""

    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    def of_rule(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.rule_id == code]


_in_process: bool | None = None
_catalogue: list[RuleInfo] | None = None
_results: dict[tuple[str, int, int], FileResult] = {}
_checker: tuple[str, Any] | None = None  # (working directory, archlint Checker)


def in_process() -> bool:
    """Whether the archlint package can be imported into this (the host's) process."""
    global _in_process
    if _in_process is None:
        try:
            for name in ("archlint.config", "archlint.engine", "archlint.registry"):
                importlib.import_module(name)
        except ImportError:
            _in_process = False
        else:
            _in_process = True
    return _in_process


def command() -> list[str]:
    """The archlint command line for the subprocess fallback."""
    configured = os.environ.get(COMMAND_ENV, "").strip()
    if configured:
        return shlex.split(configured)
    found = shutil.which("archlint")
    if found is None:
        raise ArchlintUnavailable(
            "archlint cannot be imported in this Python environment and no `archlint` command "
            f"is on PATH; install archlint next to this tool or set {COMMAND_ENV}"
        )
    return [found]


def catalogue() -> list[RuleInfo]:
    """Every archlint rule, sorted by code. Raises ArchlintUnavailable."""
    global _catalogue
    if _catalogue is None:
        _catalogue = _catalogue_in_process() if in_process() else _catalogue_from_command()
    return _catalogue


def check_file(path: str) -> FileResult:
    """archlint's findings for one template file, computed once per file version."""
    absolute = os.path.abspath(path)
    try:
        stat = os.stat(absolute)
    except OSError as error:
        return FileResult(error=f"cannot read {absolute}: {error.strerror}")
    key = (absolute, stat.st_mtime_ns, stat.st_size)
    result = _results.get(key)
    if result is None:
        try:
            result = _check_in_process(absolute) if in_process() else _check_by_command(absolute)
        except ArchlintUnavailable as error:
            result = FileResult(error=str(error))
        except Exception as error:  # the host must see a failure, not a silent pass
            result = FileResult(error=f"archlint failed: {type(error).__name__}: {error}")
        _results[key] = result
    return result


# -- in this process --------------------------------------------------------


def _catalogue_in_process() -> list[RuleInfo]:
    from archlint.registry import RuleLoadError, load_rules

    try:
        rules = load_rules(_configured_rule_dirs())
    except RuleLoadError as error:
        raise ArchlintUnavailable(f"archlint cannot load its rules: {error}") from error
    return [RuleInfo(r.code, r.name, r.requirement, r.severity, r.title, r.help_uri) for r in rules]


def _configured_rule_dirs() -> list[str]:
    from archlint.config import ConfigError, load_config

    try:
        config, _ = load_config(None)
    except ConfigError:
        return []  # reported, per file, by check_file
    return list(config.get("rules-dirs", []))


def _check_in_process(path: str) -> FileResult:
    checker = _configured_checker()
    findings = checker.check_path(path) or []
    return FileResult(
        [
            Finding(f.rule_id, f.severity, f.resource, f.line, f.message, f.fix)
            for f in findings
            if not f.suppressed
        ]
    )


def _configured_checker() -> Any:
    """A Checker set up like `archlint check` run in the current directory."""
    global _checker
    cwd = os.getcwd()
    if _checker is not None and _checker[0] == cwd:
        return _checker[1]
    from archlint.config import ConfigError, load_config
    from archlint.engine import Checker, Options
    from archlint.registry import RuleLoadError, load_rules
    from archlint.rule import ARCHITECTURES

    try:
        config, _ = load_config(None)
        rules = load_rules(config.get("rules-dirs", []))
    except (ConfigError, RuleLoadError) as error:
        raise ArchlintUnavailable(str(error)) from error
    architectures = list(config.get("architectures", []))
    unknown = [a for a in architectures if a not in ARCHITECTURES]
    if unknown:
        raise ArchlintUnavailable(
            f"unknown architecture '{unknown[0]}' in the archlint configuration; "
            f"known architectures: {', '.join(ARCHITECTURES)}"
        )
    options = Options(
        architectures=architectures,
        # A repository's config decides the catalogue rules, never whether an
        # unreadable template is reported (AL000-AL003): see engine.selected.
        config_select=list(config.get("select", [])),
        config_ignore=list(config.get("ignore", [])),
    )
    _checker = (cwd, Checker(rules, options))
    return _checker[1]


# -- through the archlint command -------------------------------------------


def _run(arguments: list[str]) -> str:
    argv = [*command(), *arguments]
    try:
        completed = subprocess.run(
            argv, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise ArchlintUnavailable(f"cannot run {shlex.join(argv)}: {error}") from error
    if completed.returncode != 0:
        reason = completed.stderr.strip().splitlines()[-1:] or ["no message"]
        raise ArchlintUnavailable(
            f"{shlex.join(argv)} exited with status {completed.returncode}: {reason[0]}"
        )
    return completed.stdout


def _catalogue_from_command() -> list[RuleInfo]:
    try:
        data = json.loads(_run(["list-rules", "--format", "json"]))
        return sorted(
            (
                RuleInfo(
                    str(item["code"]),
                    str(item["name"]),
                    str(item.get("requirement", "")),
                    str(item["severity"]),
                    str(item.get("title", item["name"])),
                    str(item.get("help_uri", "")),
                )
                for item in data
            ),
            key=lambda rule: rule.code,
        )
    except (ValueError, KeyError, TypeError) as error:
        raise ArchlintUnavailable(f"unexpected output of archlint list-rules: {error}") from error


def _check_by_command(path: str) -> FileResult:
    output = _run(["check", "--format", "json", "--fail-on", "never", path])
    try:
        report = json.loads(output)
        return FileResult(
            [
                Finding(
                    str(item["rule_id"]),
                    str(item["severity"]),
                    item.get("resource"),
                    item.get("line"),
                    str(item.get("message", "")),
                    str(item.get("fix") or ""),
                )
                for item in report["findings"]
                if not item.get("suppressed")
            ]
        )
    except (ValueError, KeyError, TypeError) as error:
        raise ArchlintUnavailable(f"unexpected output of archlint check: {error}") from error
