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
    configs = check.add_mutually_exclusive_group()
    configs.add_argument("--config", metavar="FILE", help="read the configuration from FILE")
    configs.add_argument(
        "--isolated",
        action="store_true",
        help="ignore all configuration files (.archlint.yaml, pyproject.toml): for pull "
        "requests from forks, whose config and rules-dirs are the author's",
    )
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
    stdout = sys.stdout
    sys.stdout = guarded = _ClosedStdout(stdout)  # type: ignore[assignment]
    try:
        status = _dispatch(args)
        guarded.flush()
        return status
    except UsageError as error:
        print(f"archlint: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # A write past the guard (straight to the descriptor): the findings'
        # status is unknown, and a gate that cannot tell fails closed.
        guarded.discard()
        return EXIT_FINDINGS if args.command == "check" else EXIT_OK
    except Exception as error:
        if args.debug:
            raise
        print(
            f"archlint: internal error: {type(error).__name__}: {error} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    finally:
        sys.stdout = stdout


class _ClosedStdout:
    """Standard output that survives its reader going away (`archlint check | head -1`).

    Once a write or flush meets a closed pipe, the rest of the report is
    discarded (the descriptor is pointed at /dev/null, so nothing fails at
    exit either) and the command runs to its end: the exit status stays the
    one the findings call for.
    """

    def __init__(self, stream: object) -> None:
        self._stream = stream
        self._closed = False

    def write(self, text: str) -> int:
        if not self._closed:
            try:
                return self._stream.write(text)  # type: ignore[attr-defined]
            except BrokenPipeError:
                self.discard()
        return len(text)

    def flush(self) -> None:
        if not self._closed:
            try:
                self._stream.flush()  # type: ignore[attr-defined]
            except BrokenPipeError:
                self.discard()

    def discard(self) -> None:
        self._closed = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())  # type: ignore[attr-defined]
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


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
