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

from archlint import builtin, fingerprint, nested, safeio
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
STDIN = "-"
CONFORMANCE_RULE = "AL901"

# A file that failed to parse is reported only if it looks like a template;
# other broken YAML in the repository (CI configs, ...) is none of our business.
_LOOKS_LIKE_TEMPLATE = re.compile(
    r"AWSTemplateFormatVersion|^Resources\s*:|\"Resources\"\s*:", re.M
)


# Findings that a template could not be read or checked: a configuration file
# (the pull request's own) cannot silence them, only the command line can.
UNSILENCEABLE_BY_CONFIG = frozenset({"AL000", "AL001", "AL002", "AL003"})


@dataclass
class Options:
    architectures: list[str] = field(default_factory=list)
    # From the command line (or an API caller): they decide every rule.
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: str = ERROR
    show_suppressed: bool = False
    # From a configuration file: they decide every rule but UNSILENCEABLE_BY_CONFIG.
    config_select: list[str] = field(default_factory=list)
    config_ignore: list[str] = field(default_factory=list)
    # The checked trees (archlint.tree): local files a template names are read
    # only inside the root holding it; empty: its repository or folder.
    roots: list[str] = field(default_factory=list)


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
    # Findings a baseline set aside (`check --baseline`); None: no baseline in use.
    baselined: int | None = None
    # For the HTML report only (filled by `check` for --format html): per file, the
    # lines around its findings and its resource graph's picture (`svg.FileView`).
    views: dict = field(default_factory=dict)

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


def discover(paths: Iterable[str], selection: object = None) -> Iterator[tuple[str, bool]]:
    """(path, explicitly named) for each file to look at, directories walked in order.

    `archlint.selection` decides (walks, `.gitignore`, excludes, globs); without a
    `Selection`, the default excludes apply. A name that is neither a file, a
    directory nor a matching glob raises `selection.SelectionError`.
    """
    from archlint.selection import Selection

    chosen = selection if isinstance(selection, Selection) else Selection()
    yield from chosen.files(paths)


def read(path: str) -> bytes:
    """A template's bytes: regular files only (else `safeio.NotRegularFile`, an
    OSError), at most one byte past the loader's size limit."""
    from archlint.loader import MAX_FILE_BYTES

    if path == STDIN:
        return safeio.read_stream(sys.stdin.buffer, MAX_FILE_BYTES)
    return safeio.read_regular(path, MAX_FILE_BYTES)


def selected(rules: list[Rule], options: Options) -> list[Rule]:
    def matches(rule: Rule, idents: list[str]) -> bool:
        return any(rule.code.lower().startswith(i.lower()) or rule.name == i for i in idents)

    def kept(rule: Rule) -> bool:
        if options.select and not matches(rule, options.select):
            return False
        if matches(rule, options.ignore):
            return False
        if rule.code in UNSILENCEABLE_BY_CONFIG:
            return True
        if options.config_select and not matches(rule, options.config_select):
            return False
        return not matches(rule, options.config_ignore)

    return [r for r in rules if kept(r)]


class Checker:
    """Checks templates with a fixed set of rules and options."""

    def __init__(self, rules: list[Rule], options: Options) -> None:
        self.all_rules = rules
        self.rules = selected(rules, options)
        self.enabled = {r.code for r in self.rules}
        self.options = options
        self.ran: dict[str, set[str]] = {}

    def check_path(self, path: str, explicit: bool = True) -> list[Finding] | None:
        """Findings for one file, or None when it is not a template (skipped).

        Never raises for one file: whatever fails while checking it is its
        AL000 finding, naming the stage, and the next file is checked.
        """
        try:
            data = read(path)
        except OSError as error:
            return [
                self._engine(builtin.UNREADABLE, path, None, None, f"cannot read: {error.strerror}")
            ]
        except Exception as error:
            return [self._failure(path, "load", error)]
        return self.check_bytes(path, data, explicit)

    def check_bytes(self, path: str, data: bytes, explicit: bool = True) -> list[Finding] | None:
        # Templates, graphs and findings are acyclic: the cyclic collector
        # only costs time while they are built (a third of a large check).
        enabled = gc.isenabled()
        gc.disable()
        try:
            try:
                template = Template.from_bytes(path, data)
                if not self._is_template(template, explicit):
                    return None
            except Exception as error:
                text = data[:200_000].decode("utf-8", "replace")
                if not explicit and not _LOOKS_LIKE_TEMPLATE.search(text):
                    return None
                return [self._failure(path, "load", error)]
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
        # A file named on the command line that cannot even be read (bad bytes,
        # UTF-16 without a byte-order mark, binary, an alias cycle or bomb, over
        # the size limit) is reported: it may be a template nobody can check.
        if explicit and kinds & {"encoding", "too-large"}:
            return True
        # Broken or oddly shaped files are ours only if they look like a
        # template: other YAML in the repository (CI configs, playbooks) is not.
        if kinds & {"syntax", "encoding", "too-large", "duplicate-key", "not-template"}:
            return bool(_LOOKS_LIKE_TEMPLATE.search(template.text[:200_000]))
        return False

    def check_template(self, template: Template) -> list[Finding]:
        """Findings for one template; an exception at any stage ("load", "structure",
        "expand", "graph", "rules") is an AL000 finding, after those found before it."""
        from archlint import sam

        findings: list[Finding] = []
        stage = "load"
        try:
            findings.extend(self._load_findings(template))
            architectures = self._architectures(template, findings)
            self.ran[template.path] = (
                {r.code for r in self.rules if r.check is not None and r.applies_to(architectures)}
                if template.resources
                else set()
            )
            if template.resources:
                written, is_sam = template, sam.is_sam(template)
                if not is_sam:  # as written: CDK's inlining below adds references
                    stage = "structure"
                    findings.extend(self._structure(template, written))
                stage = "expand"
                findings.extend(self._transform_findings(template))
                stacks = nested.locations(template)
                template, problem, notes = self._expand(template)
                if problem is not None:
                    findings.append(problem)
                else:
                    if is_sam:  # as CloudFormation sees it: what SAM generates is defined
                        stage = "structure"
                        findings.extend(self._structure(template, written))
                    stage = "expand"
                    self._child_failures: list[Finding] = []
                    inlined = nested.inline(
                        template, stacks, self._load_child, roots=self.options.roots
                    )
                    template = inlined.template
                    findings.extend(self._child_failures)
                    findings.extend(
                        self._engine(
                            builtin.NOT_CHECKED, template.path, None, note.line, note.message
                        )
                        for note in [*notes, *inlined.notes]
                    )
                    stage = "graph"
                    from archlint.graph import ResourceGraph  # networkx only for real templates

                    graph = ResourceGraph(template, tuple(architectures))
                    stage = "rules"
                    findings.extend(self._run_rules(template, architectures, graph))
                    findings.extend(self._resolver_findings(template, graph.resolver))
            stage = "suppressions"
            findings = self._suppress(template, findings)
        except Exception as error:  # one template never aborts the run
            findings.append(self._failure(template.path, stage, error))
        findings = [f for f in findings if f.rule_id in self.enabled]
        findings.sort(key=Finding.sort_key)
        return findings

    def _failure(
        self, path: str, stage: str, error: BaseException, rest: str = "what follows it"
    ) -> Finding:
        """The AL000 finding for an exception that stopped (a stage of) the check of a file."""
        frames = traceback.extract_tb(error.__traceback__)
        where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
        text = str(error)
        text = text if len(text) <= 200 else text[:200] + "..."
        return self._engine(
            builtin.RULE_ERROR,
            path,
            None,
            None,
            f"archlint failed while checking this template (stage: {stage}): "
            f"{type(error).__name__}: {text}{where}; {rest} was not checked",
        )

    def _structure(self, template: Template, written: Template) -> Iterator[Finding]:
        """AL003 for what CloudFormation rejects; not where a macro rewrites the template."""
        from archlint import sam, structure

        if any(t != sam.SAM_TRANSFORM for t in written.transforms) or "Rain::" in written.text:
            return  # a macro or `rain pkg` makes the template CloudFormation sees
        try:
            problems = structure.check(template)
        except Exception as error:  # the rules still run
            yield self._failure(template.path, "structure", error, "its structure")
            return
        for problem in problems:
            resource = template.resources.get(problem.resource or "")
            name = (resource.origin or resource.logical_id) if resource else problem.resource
            yield self._engine(
                builtin.INVALID_TEMPLATE, template.path, name, problem.line, problem.message
            )

    def _resolver_findings(self, template: Template, resolver: object) -> Iterator[Finding]:
        """AL006 for what value resolution could not decide, once per template."""
        from archlint.values import MAX_COMBINATIONS

        places: list = getattr(resolver, "over_approximated", [])
        if places:
            what, line = places[0]
            others = len(dict.fromkeys(places)) - 1
            more = f" (and {others} more place{'s' if others > 1 else ''})" if others else ""
            yield self._engine(
                builtin.NOT_CHECKED,
                template.path,
                None,
                line,
                f"more than {MAX_COMBINATIONS} combinations of {what}{more}; values were "
                "over-approximated: each choice counts on its own, any mix of them is undecided",
            )
        for message, line in getattr(resolver, "notes", {}):
            yield self._engine(builtin.NOT_CHECKED, template.path, None, line, message)

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
        """A finding of the engine's own: no loaded tree at hand, its message fingerprints it."""
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
            fingerprint=fingerprint.of_message(
                rule.code, path, resource, rule.requirement, message
            ),
        )

    def _load_findings(self, template: Template) -> Iterator[Finding]:
        for problem in template.problems:
            if problem.kind == "duplicate-key":
                rule = builtin.DUPLICATE_KEY
            elif problem.kind in ("not-template", "invalid-resource", "invalid-structure"):
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
        """A nested stack's template, expanded like any other (None: unusable).

        A child that makes archlint fail is an AL000 finding of the parent
        (`_child_failures`); the parent is checked without it.
        """
        stage = "load"
        try:
            child = Template.from_bytes(path, read(path))
            if not child.resources:
                return None
            stage = "expand"
            expanded, problem, _ = self._expand(child)
        except OSError:
            return None
        except Exception as error:
            failure = self._failure(path, f"{stage} of a nested stack template", error)
            getattr(self, "_child_failures", []).append(failure)
            return None
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

    def _run_rules(
        self, template: Template, architectures: list[str], graph: object = None
    ) -> Iterator[Finding]:
        from archlint.graph import ResourceGraph  # networkx only for real templates

        if not isinstance(graph, ResourceGraph):
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
        file = resource.file if resource is not None and resource.file else template.path
        requirement = violation.requirement or rule.requirement
        if resource is not None and name is not None:
            # Placed by its property path in the resource's tree: lines may move.
            stamp = fingerprint.of_resource(
                rule.code, file, name, resource, line, requirement, violation.message
            )
        else:
            stamp = fingerprint.of_message(rule.code, file, None, requirement, violation.message)
        return Finding(
            rule.code,
            rule.name,
            requirement,
            violation.severity or rule.severity,
            file,
            name,
            line,
            violation.message,
            violation.fix or rule.fix,
            extra=extra,
            fingerprint=stamp,
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
