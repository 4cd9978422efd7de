"""The CLI's commands. Each returns an exit status; usage problems raise UsageError."""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import resources

from archlint import tree
from archlint.cli import EXIT_FINDINGS, EXIT_OK, UsageError, use_color
from archlint.config import ConfigError, load_config
from archlint.engine import STDIN, UNSILENCEABLE_BY_CONFIG, Options, Report, discover
from archlint.registry import RuleLoadError, find_rule, load_rules
from archlint.rule import ARCHITECTURES, ERROR, Rule


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
    try:
        config, source = load_config(args.config, isolated=args.isolated)
    except ConfigError as error:
        raise UsageError(str(error)) from error
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
        roots=tree.roots_of(args.paths),
    )
    _check_rule_ids(rules, options.select, "--select")
    _check_rule_ids(rules, options.ignore, "--ignore")
    _check_rule_ids(rules, options.config_select, f"{source}: select")
    _check_rule_ids(rules, options.config_ignore, f"{source}: ignore")
    for path in args.paths:
        if path != STDIN and not os.path.exists(path):
            raise UsageError(f"{path}: no such file or directory")
    if args.paths.count(STDIN) > 1:
        raise UsageError("'-' (standard input) can be given once")

    files = list(discover(args.paths))
    from archlint.parallel import check_files

    findings, ran, checked = check_files(files, rules, options, rule_dirs, args.jobs)
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
    _write(report, args.format, args.output)
    return EXIT_FINDINGS if _fails(report, options.fail_on, args.fail_on is None) else EXIT_OK


def _fails(report: Report, fail_on: str, from_config: bool) -> bool:
    """Whether the run fails. A configuration's fail-on (the pull request's own) cannot
    pass a template that could not be read or checked: only --fail-on can."""
    if report.fails(fail_on):
        return True
    return from_config and any(
        f.rule_id in UNSILENCEABLE_BY_CONFIG and f.severity == ERROR for f in report.active
    )


def _reported_rules(rules: list[Rule], report: Report) -> list[Rule]:
    """Rules that ran or reported: what SARIF and JUnit describe."""
    codes = {c for codes in report.ran.values() for c in codes}
    codes |= {f.rule_id for f in report.findings}
    return [r for r in rules if r.code in codes]


def _write(report: Report, fmt: str, output: str | None) -> None:
    from archlint.reporters import write

    if output:
        try:
            with open(output, "w", encoding="utf-8") as stream:
                write(report, fmt, stream)
        except OSError as error:
            raise UsageError(f"cannot write {output}: {error.strerror}") from error
        if fmt != "text":
            from archlint.reporters.text_format import summary_line

            print(summary_line(report), file=sys.stderr)
        return
    write(report, fmt, sys.stdout, color=fmt == "text" and use_color(sys.stdout))


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
    from archlint import conformance
    from archlint.engine import read
    from archlint.graph import ResourceGraph
    from archlint.render import RENDERERS
    from archlint.template import Template

    if args.path != STDIN and not os.path.isfile(args.path):
        raise UsageError(f"{args.path}: no such file")
    template = Template.from_bytes(args.path, read(args.path))
    if not template.resources:
        problems = "; ".join(f"line {p.line}: {p.message}" for p in template.problems)
        raise UsageError(f"{args.path}: no resources to draw ({problems or 'empty'})")
    declared = [a for a in template.declared_architectures() if a in ARCHITECTURES]
    architectures = sorted({*args.architecture, *declared})
    _check_architectures(architectures)
    resource_graph = ResourceGraph(template, tuple(architectures))
    gaps = [g for a in architectures for g in conformance.gaps(resource_graph, a)]
    sys.stdout.write(RENDERERS[args.format](resource_graph, gaps, args.all_edges))
    return EXIT_OK


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
