"""The CLI's commands. Each returns an exit status; usage problems raise UsageError."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING

from archlint import tree
from archlint.cli import EXIT_FINDINGS, EXIT_OK, UsageError, use_color
from archlint.config import ConfigError, base_directory, load_config
from archlint.engine import STDIN, UNSILENCEABLE_BY_CONFIG, Options, Report, discover
from archlint.selection import literal_paths

if TYPE_CHECKING:
    from archlint.template import Template
from archlint.registry import RuleLoadError, find_rule, load_rules
from archlint.rule import ARCHITECTURES, ERROR, Finding, Rule


def _rules(rule_dirs: list[str]) -> list[Rule]:
    try:
        return load_rules(rule_dirs)
    except RuleLoadError as error:
        raise UsageError(str(error)) from error


def _check_architectures(names: list[str]) -> None:
    for name in names:
        if name not in ARCHITECTURES:
            raise UsageError(
                f"unknown architecture '{name}'; known architectures: {', '.join(ARCHITECTURES)}"
            )


def _check_rule_ids(rules: list[Rule], idents: list[str], flag: str) -> None:
    for ident in idents:
        if not any(r.code.lower().startswith(ident.lower()) or r.name == ident for r in rules):
            raise UsageError(f"{flag}: no rule matches '{ident}' (see `archlint list-rules`)")


def check(args: argparse.Namespace) -> int:
    _default_paths(args)
    try:
        config, source = load_config(args.config, isolated=args.isolated)
    except ConfigError as error:
        raise UsageError(str(error)) from error
    base = base_directory(source, given=args.config is not None)
    # The command line outranks the configuration; a list given there replaces
    # the configuration's (only rules-dirs add up: both run). As in ruff, a
    # --select starts the selection afresh: the config's ignore goes with it.
    architectures = args.architecture or list(config.get("architectures", []))
    _check_architectures(architectures)
    rule_dirs = [*config.get("rules-dirs", []), *args.rules_dir]
    rules = _rules(rule_dirs)
    options = Options(
        architectures=architectures,
        select=args.select or [],
        ignore=args.ignore or [],
        fail_on=args.fail_on or config.get("fail-on", "error"),
        show_suppressed=args.show_suppressed or config.get("show-suppressed", False),
        config_select=[] if args.select is not None else list(config.get("select", [])),
        config_ignore=(
            [] if args.select is not None or args.ignore is not None else config.get("ignore", [])
        ),
        roots=tree.roots_of(literal_paths(args.paths)),
    )
    _check_rule_ids(rules, options.select, "--select")
    _check_rule_ids(rules, options.ignore, "--ignore")
    _check_rule_ids(rules, options.config_select, f"{source}: select")
    _check_rule_ids(rules, options.config_ignore, f"{source}: ignore")
    if args.paths.count(STDIN) > 1:
        raise UsageError("'-' (standard input) can be given once")
    files = _select(args, config, base)

    set_aside = _baseline(args, config, source)
    findings, ran, checked = _check_selected(files, rules, options, rule_dirs, args)
    baselined = None
    if set_aside is not None:
        findings, baselined = set_aside(findings)
    report = Report(
        findings,
        len(checked),
        rules,
        paths=checked,
        ran=ran,
        show_suppressed=options.show_suppressed,
        statistics=args.statistics,
    )
    report.rules = _reported_rules(rules, report)
    if baselined is not None:
        report.baselined = baselined
    if args.format == "html":
        report.views = _html_views(report, options.architectures, args)
    _write(report, args.format, args.output, quiet=args.quiet, silent=args.silent)
    return EXIT_FINDINGS if _fails(report, options.fail_on, args.fail_on is None) else EXIT_OK


_SetAside = Callable[[list[Finding]], tuple[list[Finding], int]]


def _baseline(args: argparse.Namespace, config: dict, source: str | None) -> _SetAside | None:
    """What sets aside the findings a baseline records (None: no baseline).

    Read before anything is checked: a missing baseline is a usage error at
    once. `--write-baseline FILE` records the findings first, and the run then
    reports against it. A baseline named in the configuration (relative to
    that file) is the pull request's own: it cannot hide that a template
    could not be read or checked, as with the configuration's other settings.
    It returns the findings left and how many were set aside.
    """
    from archlint import baseline

    written = getattr(args, "write_baseline", None)
    path = getattr(args, "baseline", None)
    keep: frozenset[str] = frozenset()
    if path is None and config.get("baseline") is not None and source is not None:
        path = os.path.join(os.path.dirname(source), config["baseline"])
        keep = UNSILENCEABLE_BY_CONFIG
    try:
        if written:
            # Fail before the run if the file cannot be written at all.
            with open(written, "a", encoding="utf-8"):
                pass
        elif path is None:
            return None
        recorded = None if written else baseline.read(path)
    except OSError as error:
        raise UsageError(f"cannot write baseline {written}: {error.strerror}") from error
    except baseline.BaselineError as error:
        raise UsageError(str(error)) from error

    def split(findings: list[Finding]) -> tuple[list[Finding], int]:
        if not written:
            return baseline.split(findings, recorded or Counter(), keep)
        try:
            count = baseline.write(written, [f for f in findings if not f.suppressed])
        except baseline.BaselineError as error:
            raise UsageError(str(error)) from error
        if not getattr(args, "silent", False):
            print(f"archlint: wrote {count} finding(s) to baseline {written}", file=sys.stderr)
        return baseline.split(findings, baseline.read(written))

    return split


def _fails(report: Report, fail_on: str, from_config: bool) -> bool:
    """Whether the run fails. A configuration's fail-on (the pull request's own) cannot
    pass a template that could not be read or checked: only --fail-on can."""
    if report.fails(fail_on):
        return True
    return from_config and any(
        f.rule_id in UNSILENCEABLE_BY_CONFIG and f.severity == ERROR for f in report.active
    )


def _html_views(report: Report, architectures: list[str], args: argparse.Namespace) -> dict:
    """For the HTML report: each file's lines around its findings and its picture."""
    from archlint.reporters.html_format import CONTEXT
    from archlint.svg import file_view

    # Standard input was read once; a name given for it may be another file on disk.
    unreadable = {STDIN, getattr(args, "stdin_filename", None)} if STDIN in args.paths else set()
    wanted: dict[str, set[int]] = {path: set() for path in report.paths}
    for finding in report.findings:
        lines = wanted.setdefault(finding.file, set())
        if finding.line:
            lines.update(range(finding.line - CONTEXT, finding.line + CONTEXT + 1))
    return {
        path: file_view(path, architectures, lines)
        for path, lines in wanted.items()
        if path not in unreadable
    }


def _reported_rules(rules: list[Rule], report: Report) -> list[Rule]:
    """Rules that ran or reported: what SARIF and JUnit describe."""
    codes = {c for codes in report.ran.values() for c in codes}
    codes |= {f.rule_id for f in report.findings}
    return [r for r in rules if r.code in codes]


def _default_paths(args: argparse.Namespace) -> None:
    """No PATH: `.`, or standard input when --stdin-filename names it (as in ruff)."""
    if not args.paths:
        args.paths = [STDIN] if args.stdin_filename else [os.curdir]
    elif args.stdin_filename and STDIN not in args.paths:
        raise UsageError("--stdin-filename names standard input: give - as a PATH (or no PATH)")


def _select(args: argparse.Namespace, config: dict, base: str) -> list[tuple[str, bool]]:
    """The files to look at: the command line's paths, excludes and .gitignore applied.

    `--exclude` replaces the configuration's `exclude`, which replaces the
    defaults; both `extend-exclude` add. Command-line patterns are relative to
    the working directory, the configuration's to its directory.
    """
    from archlint.selection import DEFAULT_EXCLUDE, Selection, SelectionError

    here = os.getcwd()
    if args.exclude is not None:
        exclude = (here, args.exclude)
    elif "exclude" in config:
        exclude = (base, config["exclude"])
    else:
        exclude = (here, list(DEFAULT_EXCLUDE))
    selection = Selection(
        [exclude, (base, config.get("extend-exclude", [])), (here, args.extend_exclude or [])],
        force_exclude=args.force_exclude,
        stdin_filename=args.stdin_filename,
    )
    try:
        return list(discover(args.paths, selection))
    except SelectionError as error:
        raise UsageError(str(error)) from error


def _check_selected(
    files: list[tuple[str, bool]],
    rules: list[Rule],
    options: Options,
    rule_dirs: list[str],
    args: argparse.Namespace,
) -> tuple[list[Finding], dict[str, set[str]], list[str]]:
    """check_files, with the template read from - checked under its --stdin-filename:
    findings, suppressions, nested stacks and the baseline see that name."""
    from archlint.parallel import check_files

    name = args.stdin_filename
    if not name or (STDIN, True) not in files:
        return check_files(files, rules, options, rule_dirs, args.jobs)
    rest = [item for item in files if item[0] != STDIN]
    findings, ran, checked = check_files(rest, rules, options, rule_dirs, args.jobs)
    from archlint.engine import Checker, read
    from archlint.parallel import READING, internal_failure

    checker = Checker(rules, options)
    try:
        own = checker.check_bytes(name, read(STDIN), True)
    except Exception as error:  # as for any other file: its AL000 finding
        own = [internal_failure(name, READING, f"{type(error).__name__}: {error}")]
    if own is not None:
        index = [path for path, _ in files].index(STDIN)
        checked.insert(min(index, len(checked)), name)
        ran[name] = checker.ran.get(name, set())
        findings = sorted([*findings, *own], key=Finding.sort_key)
    return findings, ran, checked


class _WithoutSummary:
    """Standard output for --quiet: the text report's closing summary line is dropped."""

    def __init__(self, stream: object, summary: str) -> None:
        self._stream = stream
        self._summary = summary + "\n"

    def write(self, text: str) -> int:
        if text == self._summary:
            return len(text)
        return self._stream.write(text)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _write(
    report: Report, fmt: str, output: str | None, *, quiet: bool = False, silent: bool = False
) -> None:
    """The report to `output` or stdout; --quiet drops the summary line, --silent all
    printing (a report asked for with --output is still written)."""
    from archlint.reporters import write
    from archlint.reporters.text_format import summary_line

    if output:
        try:
            with open(output, "w", encoding="utf-8") as stream:
                write(report, fmt, stream)
        except OSError as error:
            raise UsageError(f"cannot write {output}: {error.strerror}") from error
        if fmt != "text" and not (quiet or silent):
            print(summary_line(report), file=sys.stderr)
        return
    if silent:
        return
    stream = _WithoutSummary(sys.stdout, summary_line(report)) if quiet else sys.stdout
    write(report, fmt, stream, color=fmt == "text" and use_color(sys.stdout))  # type: ignore[arg-type]


def list_rules(args: argparse.Namespace) -> int:
    rules = _rules(args.rules_dir)
    if args.format == "json":
        data = [
            {
                "code": r.code,
                "name": r.name,
                "requirement": r.requirement,
                "severity": r.severity,
                "title": r.title,
                "architectures": list(r.architectures),
                "resource_types": list(r.resource_types),
                "help_uri": r.help_uri,
            }
            for r in rules
        ]
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    for r in rules:
        scope = ",".join(r.architectures) if r.architectures else "all"
        print(f"{r.code}  {r.severity:<7}  {r.name:<36}  {r.requirement:<26}  {scope}")
    return EXIT_OK


def explain(args: argparse.Namespace) -> int:
    from archlint.docs import render_rule

    rules = _rules(args.rules_dir)
    rule = find_rule(rules, args.rule)
    if rule is None:
        raise UsageError(f"no rule '{args.rule}' (see `archlint list-rules`)")
    sys.stdout.write(render_rule(rule))
    return EXIT_OK


def graph(args: argparse.Namespace) -> int:
    """Draw a template; for a directory, each template in it, one after another."""
    from archlint.engine import read
    from archlint.template import Template

    _check_architectures(args.architecture)
    if args.path == STDIN or os.path.isfile(args.path):
        sys.stdout.write(_drawing(Template.from_bytes(args.path, read(args.path)), args))
        return EXIT_OK
    if not os.path.isdir(args.path):
        raise UsageError(f"{args.path}: no such file or directory")
    drawings: list[tuple[str, str]] = []
    refused: list[str] = []
    for path, _ in discover([args.path]):
        try:
            template = Template.from_bytes(path, read(path))
        except OSError as error:
            refused.append(f"{path}: cannot read: {error.strerror}")
            continue
        if not template.is_template:
            continue  # other YAML and JSON of the directory: not templates
        try:
            drawings.append((path, _drawing(template, args)))
        except UsageError as error:
            refused.append(str(error))
    for why in refused:
        print(f"archlint: not drawn: {why}", file=sys.stderr)
    if not drawings:
        raise UsageError(
            f"{args.path}: no template to draw in this directory"
            + (f" ({len(refused)} could not be drawn)" if refused else "")
        )
    sys.stdout.write(_drawings(drawings, args.format))
    return EXIT_OK


def _drawing(template: Template, args: argparse.Namespace) -> str:
    from archlint import conformance
    from archlint.graph import ResourceGraph
    from archlint.render import RENDERERS

    if not template.resources:
        problems = "; ".join(f"line {p.line}: {p.message}" for p in template.problems)
        raise UsageError(f"{template.path}: no resources to draw ({problems or 'empty'})")
    declared = [a for a in template.declared_architectures() if a in ARCHITECTURES]
    architectures = sorted({*args.architecture, *declared})
    resource_graph = ResourceGraph(template, tuple(architectures))
    gaps = [g for a in architectures for g in conformance.gaps(resource_graph, a)]
    return RENDERERS[args.format](resource_graph, gaps, args.all_edges)


def _drawings(drawings: list[tuple[str, str]], fmt: str) -> str:
    """Several drawings: each after a comment line naming its file (JSON has no
    comments: one object, file to graph)."""
    from archlint.reporters.safe import visible

    if fmt == "json":
        merged = {path: json.loads(text) for path, text in drawings}
        return json.dumps(merged, indent=2) + "\n"
    comment = "%%" if fmt == "mermaid" else "//"
    return "".join(f"{comment} {visible(path)}\n{text}" for path, text in drawings)


def init(args: argparse.Namespace) -> int:
    if args.name not in ARCHITECTURES:
        raise UsageError(
            f"unknown architecture '{args.name}'; known architectures: {', '.join(ARCHITECTURES)}"
        )
    text = reference_text(args.name)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    if os.path.exists(args.output) and not args.force:
        raise UsageError(f"{args.output} exists; pass --force to overwrite it")
    try:
        with open(args.output, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror}") from error
    print(f"wrote {args.output} from the {args.name} reference architecture", file=sys.stderr)
    return EXIT_OK


def checkov_dir(args: argparse.Namespace) -> int:
    """The external checks directory that runs archlint's rules inside checkov."""
    print(_plugin_dir("checkov_checks"))
    return EXIT_OK


def cfn_lint_rules_dir(args: argparse.Namespace) -> int:
    """The rules directory that runs archlint's rules inside cfn-lint."""
    print(_plugin_dir("cfnlint_rules"))
    return EXIT_OK


def _plugin_dir(name: str) -> str:
    return os.path.abspath(str(resources.files("archlint.plugins").joinpath(name)))


def reference_text(name: str) -> str:
    return (
        resources.files("archlint.reference_templates").joinpath(f"{name}.yaml").read_text("utf-8")
    )
