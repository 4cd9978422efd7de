"""From paths to sorted findings: discovery, loading, rules, suppression.

One template is loaded once, its graph built once, and every applicable rule
runs on that graph. A rule that raises becomes an `AL000` finding for that
rule; the other rules still run.
"""

from __future__ import annotations

import gc
import os
import re
import sys
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from archlint import builtin, nested
from archlint.nodes import LoadProblem, Map
from archlint.rule import (
    ARCHITECTURES,
    ERROR,
    SEVERITY_RANK,
    WARNING,
    Finding,
    Rule,
    Violation,
)
from archlint.template import Resource, Template

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
STDIN = "-"
CONFORMANCE_RULE = "AL901"

# A file that failed to parse is reported only if it looks like a template;
# other broken YAML in the repository (CI configs, ...) is none of our business.
_LOOKS_LIKE_TEMPLATE = re.compile(
    r"AWSTemplateFormatVersion|^Resources\s*:|\"Resources\"\s*:", re.M
)


@dataclass
class Options:
    architectures: list[str] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: str = ERROR
    show_suppressed: bool = False


@dataclass
class Report:
    findings: list[Finding]
    files: int
    rules: list[Rule]
    paths: list[str] = field(default_factory=list)
    # Codes of the rules that ran on each file, for reporters that list passes.
    ran: dict[str, set[str]] = field(default_factory=dict)
    show_suppressed: bool = False
    statistics: bool = False

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def summary(self) -> dict:
        active = self.active
        return {
            "files": self.files,
            "errors": sum(f.severity == "error" for f in active),
            "warnings": sum(f.severity == "warning" for f in active),
            "infos": sum(f.severity == "info" for f in active),
            "suppressed": len(self.findings) - len(active),
        }

    def fails(self, fail_on: str) -> bool:
        if fail_on == "never":
            return False
        threshold = SEVERITY_RANK[fail_on]
        return any(SEVERITY_RANK[f.severity] >= threshold for f in self.active)


def discover(paths: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """(path, explicitly named) for each file to look at, directories walked in order."""
    for path in paths:
        if path == STDIN or not os.path.isdir(path):
            yield path, True
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            for name in sorted(files):
                if name.lower().endswith(TEMPLATE_SUFFIXES):
                    yield os.path.join(root, name), False


def read(path: str) -> bytes:
    if path == STDIN:
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def selected(rules: list[Rule], options: Options) -> list[Rule]:
    def matches(rule: Rule, idents: list[str]) -> bool:
        return any(rule.code.lower().startswith(i.lower()) or rule.name == i for i in idents)

    chosen = [r for r in rules if not options.select or matches(r, options.select)]
    return [r for r in chosen if not matches(r, options.ignore)]


class Checker:
    """Checks templates with a fixed set of rules and options."""

    def __init__(self, rules: list[Rule], options: Options) -> None:
        self.all_rules = rules
        self.rules = selected(rules, options)
        self.enabled = {r.code for r in self.rules}
        self.options = options
        self.ran: dict[str, set[str]] = {}

    def check_path(self, path: str, explicit: bool = True) -> list[Finding] | None:
        """Findings for one file, or None when it is not a template (skipped)."""
        try:
            data = read(path)
        except OSError as error:
            return [
                self._engine(builtin.UNREADABLE, path, None, None, f"cannot read: {error.strerror}")
            ]
        return self.check_bytes(path, data, explicit)

    def check_bytes(self, path: str, data: bytes, explicit: bool = True) -> list[Finding] | None:
        # Templates, graphs and findings are acyclic: the cyclic collector
        # only costs time while they are built (a third of a large check).
        enabled = gc.isenabled()
        gc.disable()
        try:
            template = Template.from_bytes(path, data)
            if not self._is_template(template, explicit):
                return None
            return self.check_template(template)
        finally:
            if enabled:
                gc.enable()

    def _is_template(self, template: Template, explicit: bool) -> bool:
        if template.is_template or "AWSTemplateFormatVersion" in template.root:
            return True
        kinds = {p.kind for p in template.problems}
        if kinds == {"empty"}:
            return explicit
        # Broken or oddly shaped files are ours only if they look like a
        # template: other YAML in the repository (CI configs, playbooks) is not.
        if kinds & {"syntax", "encoding", "too-large", "duplicate-key", "not-template"}:
            return bool(_LOOKS_LIKE_TEMPLATE.search(template.text[:200_000]))
        return False

    def check_template(self, template: Template) -> list[Finding]:
        findings = list(self._load_findings(template))
        architectures = self._architectures(template, findings)
        self.ran[template.path] = (
            {r.code for r in self.rules if r.check is not None and r.applies_to(architectures)}
            if template.resources
            else set()
        )
        if template.resources:
            findings.extend(self._transform_findings(template))
            stacks = nested.locations(template)
            template, problem, notes = self._expand(template)
            if problem is not None:
                findings.append(problem)
            else:
                inlined = nested.inline(template, stacks, self._load_child)
                template = inlined.template
                findings.extend(
                    self._engine(builtin.NOT_CHECKED, template.path, None, note.line, note.message)
                    for note in [*notes, *inlined.notes]
                )
                findings.extend(self._run_rules(template, architectures))
        findings = self._suppress(template, findings)
        findings = [f for f in findings if f.rule_id in self.enabled]
        findings.sort(key=Finding.sort_key)
        return findings

    # -- pieces ---------------------------------------------------------------

    def _engine(
        self,
        rule: Rule,
        path: str,
        resource: str | None,
        line: int | None,
        message: str,
        severity: str | None = None,
    ) -> Finding:
        return Finding(
            rule.code,
            rule.name,
            rule.requirement,
            severity or rule.severity,
            path,
            resource,
            line,
            message,
            rule.fix,
        )

    def _load_findings(self, template: Template) -> Iterator[Finding]:
        for problem in template.problems:
            if problem.kind == "duplicate-key":
                rule = builtin.DUPLICATE_KEY
            elif problem.kind in ("not-template", "invalid-resource"):
                rule = builtin.INVALID_TEMPLATE
            elif problem.kind in ("empty", "not-expanded"):
                rule = builtin.NOT_CHECKED
            else:
                rule = builtin.UNREADABLE
            yield self._engine(
                rule, template.path, None, problem.line, problem.message, problem.severity
            )

    def _architectures(self, template: Template, findings: list[Finding]) -> list[str]:
        declared = template.declared_architectures()
        meta = template.archlint_metadata()
        line = meta.line_of("architectures") if isinstance(meta, Map) else None
        for name in declared:
            if name not in ARCHITECTURES:
                findings.append(
                    self._engine(
                        builtin.UNKNOWN_ARCHITECTURE,
                        template.path,
                        None,
                        line,
                        f"unknown architecture '{name}'; known: {', '.join(ARCHITECTURES)}",
                    )
                )
        return sorted({*self.options.architectures, *(d for d in declared if d in ARCHITECTURES)})

    def _load_child(self, path: str) -> Template | None:
        """A nested stack's template, expanded like any other (None: unusable)."""
        try:
            child = Template.from_bytes(path, read(path))
        except OSError:
            return None
        if not child.resources:
            return None
        expanded, problem, _ = self._expand(child)
        return None if problem is not None else expanded

    def _expand(self, template: Template) -> tuple[Template, Finding | None, list[LoadProblem]]:
        """SAM templates become the CloudFormation they generate; CDK's custom resources
        for bucket notifications become the bucket's own configuration. The notes say
        what the expansion could not follow (AL006)."""
        from archlint import cdk, sam

        cdk.inline_bucket_notifications(template)
        if not sam.is_sam(template):
            return template, None, []
        result = sam.expand(template)
        if result.template is None:
            failed = self._engine(
                builtin.TRANSFORM_FAILED,
                template.path,
                None,
                template.root.line_of("Transform"),
                f"the SAM translator rejects this template: {result.error}",
            )
            return template, failed, []
        return result.template, None, result.notes

    def _transform_findings(self, template: Template) -> Iterator[Finding]:
        from archlint.sam import SAM_TRANSFORM

        for transform in template.transforms:
            if transform == SAM_TRANSFORM:
                continue
            yield self._engine(
                builtin.NOT_CHECKED,
                template.path,
                None,
                template.root.line_of("Transform"),
                f"transform {transform} is not expanded by archlint: resources it generates "
                "or changes are not checked",
            )

    def _run_rules(self, template: Template, architectures: list[str]) -> Iterator[Finding]:
        from archlint.graph import ResourceGraph  # networkx only for real templates

        graph = ResourceGraph(template, tuple(architectures))
        findings: list[Finding] = []
        for rule in self.rules:
            if rule.check is None or not rule.applies_to(architectures):
                continue
            if rule.resource_types:
                for resource in template.of_type(*rule.resource_types):
                    findings.extend(self._call(rule, template, (resource, graph), resource))
            else:
                findings.extend(self._call(rule, template, (graph,), None))
        yield from _without_repeated_conformance(findings)

    def _call(
        self, rule: Rule, template: Template, args: tuple, resource: Resource | None
    ) -> Iterator[Finding]:
        try:
            violations = list(rule.check(*args))  # type: ignore[misc]
        except Exception as error:  # a broken rule must not hide the others
            frame = traceback.extract_tb(error.__traceback__)[-1]
            where = f"{os.path.basename(frame.filename)}:{frame.lineno}"
            yield self._engine(
                builtin.RULE_ERROR,
                template.path,
                resource.logical_id if resource else None,
                resource.line if resource else None,
                f"rule {rule.code} ({rule.name}) failed: {type(error).__name__}: {error} "
                f"at {where}",
            )
            return
        for violation in violations:
            yield self._finding(rule, template, violation)

    def _finding(self, rule: Rule, template: Template, violation: Violation) -> Finding:
        resource = violation.resource
        line = (
            violation.line if violation.line is not None else (resource.line if resource else None)
        )
        name = None
        extra: dict = {}
        if resource is not None:
            name = resource.origin or resource.logical_id
            cdk_path = resource.metadata.get("aws:cdk:path")
            if isinstance(cdk_path, str):
                extra["cdk_path"] = cdk_path
        return Finding(
            rule.code,
            rule.name,
            violation.requirement or rule.requirement,
            violation.severity or rule.severity,
            resource.file if resource is not None and resource.file else template.path,
            name,
            line,
            violation.message,
            violation.fix or rule.fix,
            extra=extra,
        )

    # -- suppressions -----------------------------------------------------------

    def _suppress(self, template: Template, findings: list[Finding]) -> list[Finding]:
        reasons: dict[tuple[str | None, str], str] = {}
        extra: list[Finding] = []
        scopes: list[tuple[str | None, Map]] = [(None, template.archlint_metadata())]
        for resource in template.resources.values():
            meta = resource.metadata.get("archlint")
            if isinstance(meta, Map):
                scopes.append((resource.origin or resource.logical_id, meta))
        for scope, meta in scopes:
            entries = meta.get("ignore")
            if not isinstance(entries, list):
                continue
            for index, entry in enumerate(entries):
                line = entries.line_of(index) if hasattr(entries, "line_of") else None
                ident, reason = _ignore_entry(entry)
                if ident is None:
                    continue
                rule = self._rule(ident)
                code = rule.code if rule else ident
                reasons[(scope, code)] = reason or ""
                if not reason:
                    extra.append(
                        self._engine(
                            builtin.SUPPRESSION_WITHOUT_REASON,
                            template.path,
                            scope,
                            line,
                            f"suppression of {ident} has no reason; write "
                            f"{{rule: {ident}, reason: ...}}",
                        )
                    )
        if not reasons:
            return findings + extra
        for finding in findings:
            if finding.rule_id.startswith("AL00"):
                continue  # engine findings about the file itself are not suppressible
            for scope in (finding.resource, None):
                if (scope, finding.rule_id) in reasons:
                    finding.suppressed = True
                    finding.suppression_reason = reasons[(scope, finding.rule_id)]
                    break
        return findings + extra

    def _rule(self, ident: str) -> Rule | None:
        from archlint.registry import find_rule

        return find_rule(self.all_rules, ident)


def _without_repeated_conformance(findings: list[Finding]) -> list[Finding]:
    """Drop a conformance finding (AL901) about an entry whose own rule already reports it.

    The entry's rule says what is wrong in more detail (AL605 names the queue
    without a consumer); saying it twice is noise. Once that is fixed, a
    conformance gap that remains shows on the next run.
    """
    judged = {
        f.requirement
        for f in findings
        if f.rule_id != CONFORMANCE_RULE and f.severity in (ERROR, WARNING)
    }
    return [f for f in findings if f.rule_id != CONFORMANCE_RULE or f.requirement not in judged]


def _ignore_entry(entry: object) -> tuple[str | None, str | None]:
    if isinstance(entry, str):
        return entry, None
    if isinstance(entry, dict):
        ident = entry.get("rule") or entry.get("id")
        reason = entry.get("reason") or entry.get("comment")
        return (str(ident) if ident else None), (str(reason) if reason else None)
    return None, None
