"""Command line: argument parsing and exit codes, no logic of its own.

Exit status: 0 nothing at or above --fail-on, 1 findings, 2 usage error or
archlint failed. No traceback reaches the user without --debug.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from archlint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    from archlint.reporters import FORMATS
    from archlint.rule import ARCHITECTURES

    parser = argparse.ArgumentParser(
        prog="archlint",
        description="Policy and architecture linter for AWS CloudFormation and SAM templates.",
    )
    parser.add_argument("--version", action="version", version=f"archlint {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="check templates (files, directories or -)")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument(
        "--architecture",
        action="append",
        default=[],
        metavar="NAME",
        help=f"architecture the templates implement: {', '.join(ARCHITECTURES)}",
    )
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    check.add_argument("--fail-on", choices=("error", "warning", "info", "never"), default=None)
    check.add_argument("--select", type=_csv, action="extend", default=None, metavar="ID,...")
    check.add_argument("--ignore", type=_csv, action="extend", default=None, metavar="ID,...")
    check.add_argument("--rules-dir", action="append", default=[], metavar="DIR")
    check.add_argument("--config", metavar="FILE")
    check.add_argument("--show-suppressed", action="store_true")
    check.add_argument("--statistics", action="store_true", help="count findings per rule")
    check.add_argument("--jobs", "-j", type=int, default=0, help="worker processes (0: auto)")
    check.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    listing = commands.add_parser("list-rules", help="list every rule")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.add_argument("--rules-dir", action="append", default=[], metavar="DIR")

    explain = commands.add_parser("explain", help="explain a rule: why, a bad and a fixed example")
    explain.add_argument("rule", metavar="ID")
    explain.add_argument("--rules-dir", action="append", default=[], metavar="DIR")

    graph = commands.add_parser("graph", help="draw the resource graph archlint reasons over")
    graph.add_argument("path", metavar="PATH")
    graph.add_argument("--format", choices=("mermaid", "dot", "json"), default="mermaid")
    graph.add_argument(
        "--architecture",
        action="append",
        default=[],
        metavar="NAME",
        help="mark what the template lacks against this reference architecture",
    )
    graph.add_argument("--all-edges", action="store_true", help="also draw plain references")

    init = commands.add_parser("init", help="start a template from a reference architecture")
    init.add_argument("name", metavar="NAME")
    init.add_argument("-o", "--output", metavar="FILE")
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    commands.add_parser(
        "checkov-dir",
        help="print the directory for checkov --framework cloudformation --external-checks-dir",
    )
    commands.add_parser(
        "cfn-lint-rules-dir", help="print the directory for cfn-lint --append-rules"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return _dispatch(args)
    except UsageError as error:
        print(f"archlint: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:
        if args.debug:
            raise
        print(
            f"archlint: internal error: {type(error).__name__}: {error} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _dispatch(args: argparse.Namespace) -> int:
    from archlint import commands

    handler = {
        "check": commands.check,
        "list-rules": commands.list_rules,
        "explain": commands.explain,
        "init": commands.init,
        "graph": commands.graph,
        "checkov-dir": commands.checkov_dir,
        "cfn-lint-rules-dir": commands.cfn_lint_rules_dir,
    }[args.command]
    return handler(args)


def use_color(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
