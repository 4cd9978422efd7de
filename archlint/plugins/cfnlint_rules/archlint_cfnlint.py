"""archlint's rules as cfn-lint rules: `cfn-lint --append-rules archlint.plugins.cfnlint_rules`.

Teams that already run cfn-lint (in CI, in pre-commit, in their editor) get
archlint's findings there, at archlint's lines, under ids of their own. A rule's
id is cfn-lint's severity letter (E error, W warning, I info: cfn-lint derives
the severity from it), then `9`, then the archlint code's digits: AL102 ->
E9102, AL108 -> W9108. cfn-lint reserves [EWI]9xxx for users' rules and no
built-in rule uses it. `Metadata: cfn-lint: config: ignore_checks: [E9102]` on
a resource suppresses it there, as for any cfn-lint rule.

archlint checks the template file as a whole, once per file version (cached
in `bridge`): each rule's `match` only picks its own findings. A finding of
lower severity than its rule (an info "cannot decide") keeps the rule's id,
which fixes its severity in cfn-lint, and says its own severity in the
message. When archlint itself fails on a template, the first archlint rule run
on it raises, and cfn-lint reports that as its rule-error E0002: once per
template, not once per rule. Templates read from standard input are not
checked: archlint needs the file to report lines.

cfn-lint loads this module by import path (the package re-exports the rule
classes) or, with `--append-rules "$(archlint cfn-lint-rules-dir)"`, as a file
by its bare stem; either way only absolute imports work here.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

ID_DIGIT = "9"
SEVERITY_LETTER = {"error": "E", "warning": "W", "info": "I"}
_SEVERITIES = ("error", "warning", "info")
_BRIDGE_NAME = "_archlint_plugin_bridge"


def _load_bridge() -> ModuleType:
    """archlint's bridge module, imported normally or, without archlint, by file path.

    The other plugin has the same function on purpose: each plugin file is
    loaded by path by its host, possibly where archlint is not importable,
    so it cannot import a shared helper before it has found the bridge.
    """
    try:
        from archlint.plugins import bridge

        return bridge
    except ImportError:
        pass
    loaded = sys.modules.get(_BRIDGE_NAME)
    if loaded is not None:
        return loaded
    path = Path(__file__).resolve().parent.parent / "bridge.py"
    spec = importlib.util.spec_from_file_location(_BRIDGE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load archlint's plugin bridge from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_BRIDGE_NAME] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


bridge = _load_bridge()


class ArchlintFailed(Exception):
    """archlint could not check a template; cfn-lint reports it as E0002."""


def cfnlint_id(code: str, severity: str) -> str:
    """The cfn-lint id of an archlint rule: AL102 (error) -> E9102."""
    return f"{SEVERITY_LETTER.get(severity, 'I')}{ID_DIGIT}{code[2:]}"


_failed: set[str] = set()  # templates whose archlint failure was already raised
_lines: dict[tuple[str, int], list[str]] = {}


def _line_text(path: str, line: int) -> str:
    """The text of a line of the template, to underline the whole line in editors."""
    try:
        key = (path, os.stat(path).st_mtime_ns)
        if key not in _lines:
            with open(path, encoding="utf-8", errors="replace") as handle:
                _lines[key] = handle.read().splitlines()
        lines = _lines[key]
    except OSError:
        return ""
    return lines[line - 1] if 0 < line <= len(lines) else ""


class ArchlintLintRule(CloudFormationLintRule):
    """Reports the findings of one archlint rule; subclasses carry the rule.

    This base class has no id, so cfn-lint skips it when it loads the module.
    """

    archlint: Any = None  # a bridge.RuleInfo
    severity: str = ""  # the findings of the rule this class reports: its own severity's

    def match(self, cfn: Template) -> list[RuleMatch]:
        filename = cfn.filename
        if not filename or self.archlint is None:
            return []
        path = os.path.abspath(filename)
        result = bridge.check_file(path)
        if result.error is not None:
            if path in _failed:
                return []
            _failed.add(path)
            raise ArchlintFailed(f"archlint could not check {filename}: {result.error}")
        matches: list[RuleMatch] = []
        for finding in result.of_rule(self.archlint.code):
            if finding.severity != self.severity:
                continue  # reported under the id with that severity's letter
            message = finding.message
            if finding.resource:
                where: list[str | int] = ["Resources", finding.resource]
            else:
                where = ["Resources"]  # the template as a whole
            if finding.line:
                text = _line_text(path, finding.line)
                start = len(text) - len(text.lstrip())
                end = max(len(text.rstrip()), start + 1)
                location = (finding.line - 1, start, finding.line - 1, end)
                matches.append(RuleMatch(where, message, location=location))
            elif finding.resource:
                matches.append(RuleMatch(where, message))  # cfn-lint finds the resource
            else:
                matches.append(RuleMatch(where, message, location=(0, 0, 0, 0)))
        return matches


def _rule_classes() -> dict[str, type[ArchlintLintRule]]:
    """One CloudFormationLintRule subclass per archlint rule, by class name."""
    try:
        rules = bridge.catalogue()
    except bridge.ArchlintUnavailable as error:
        # cfn-lint turns an ImportError while appending rules into a clear message
        raise ImportError(str(error)) from error
    classes: dict[str, type[ArchlintLintRule]] = {}
    for rule in rules:
        # A rule's findings can be less severe than the rule (an info "cannot
        # decide" of an error rule): each severity gets its own id, so that
        # cfn-lint's exit status and filters see the finding's real severity.
        for severity in _SEVERITIES[_SEVERITIES.index(rule.severity) :]:
            suffix = "" if severity == rule.severity else severity.capitalize()
            name = f"Archlint{rule.code}{suffix}"
            classes[name] = type(
                name,
                (ArchlintLintRule,),
                {
                    "__doc__": f"archlint {rule.code} {rule.name}: {rule.title}",
                    "id": cfnlint_id(rule.code, severity),
                    "shortdesc": f"archlint {rule.code} {rule.name}",
                    "description": rule.title,
                    "source_url": rule.help_uri,
                    "tags": ["archlint", rule.requirement],
                    "archlint": rule,
                    "severity": severity,
                },
            )
    return classes


RULE_CLASSES = _rule_classes()
globals().update(RULE_CLASSES)
