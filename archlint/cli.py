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


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: an option it does not know is its usage error, not the top's."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def build_parser() -> argparse.ArgumentParser:
    from archlint.reporters import FORMATS
    from archlint.rule import ARCHITECTURES

    parser = argparse.ArgumentParser(
        prog="archlint",
        description="Policy and architecture linter for AWS CloudFormation and SAM templates.",
    )
    parser.add_argument("--version", action="version", version=f"archlint {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)

    check = commands.add_parser("check", help="check templates (files, directories or -)")
    check.add_argument(
        "paths",
        nargs="*",
        default=None,  # none: `.`, or - with --stdin-filename (commands.check)
        metavar="PATH",
        help="template file, directory (searched recursively), quoted glob "
        "('stacks/**/*.yml') or - for standard input (default: .)",
    )
    check.add_argument(
        "--architecture",
        action="append",
        default=[],
        metavar="NAME",
        help=f"architecture the templates implement: {', '.join(ARCHITECTURES)}",
    )
    check.add_argument(
        "--format", choices=FORMATS, default="text", help="report format (default: text)"
    )
    check.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    check.add_argument(
        "--fail-on",
        choices=("error", "warning", "info", "never"),
        default=None,
        help="exit 1 on a finding of this severity or above (default: error)",
    )
    check.add_argument(
        "--select",
        type=_csv,
        action="extend",
        default=None,
        metavar="ID,...",
        help="run only these rules (codes, code prefixes or names); replaces the config's",
    )
    check.add_argument(
        "--ignore",
        type=_csv,
        action="extend",
        default=None,
        metavar="ID,...",
        help="do not run these rules (codes, code prefixes or names)",
    )
    check.add_argument(
        "--rules-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="also load the rules in DIR (runs its Python; repeatable)",
    )
    configs = check.add_mutually_exclusive_group()
    configs.add_argument("--config", metavar="FILE", help="read the configuration from FILE")
    configs.add_argument(
        "--isolated",
        action="store_true",
        help="ignore all configuration files (.archlint.yaml, pyproject.toml): for pull "
        "requests from forks, whose config and rules-dirs are the author's",
    )
    check.add_argument(
        "--show-suppressed", action="store_true", help="also report suppressed findings"
    )
    check.add_argument(
        "--exclude",
        type=_csv,
        action="extend",
        default=None,
        metavar="PAT,...",
        help="gitignore-style patterns of paths not to check, relative to the working "
        "directory; replace the config's exclude and the defaults (cdk.out, .aws-sam, "
        "node_modules, .venv, build, dist, ...)",
    )
    check.add_argument(
        "--extend-exclude",
        type=_csv,
        action="extend",
        default=None,
        metavar="PAT,...",
        help="patterns excluded in addition to the exclude ones",
    )
    check.add_argument(
        "--force-exclude",
        action="store_true",
        help="skip excluded files even when named on the command line (pre-commit names them)",
    )
    check.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="the name of the template read from - (in findings and exclude decisions)",
    )
    verbosity = check.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--quiet", "-q", action="store_true", help="print only the findings, no summary line"
    )
    verbosity.add_argument(
        "--silent",
        action="store_true",
        help="print nothing (usage errors aside); the exit status tells",
    )
    check.add_argument("--statistics", action="store_true", help="count findings per rule")
    check.add_argument(
        "--baseline",
        metavar="FILE",
        help="report and fail only on findings not recorded in FILE (see --write-baseline)",
    )
    check.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record the current findings in FILE, to adopt archlint without fixing them first",
    )
    check.add_argument("--jobs", "-j", type=int, default=0, help="worker processes (0: auto)")
    check.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")

    listing = commands.add_parser("list-rules", help="list every rule")
    listing.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    listing.add_argument(
        "--rules-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="also list the rules in DIR (runs its Python; repeatable)",
    )

    explain = commands.add_parser("explain", help="explain a rule: why, a bad and a fixed example")
    explain.add_argument("rule", metavar="ID", help="rule code (AL102) or name")
    explain.add_argument(
        "--rules-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="also look in the rules in DIR (runs its Python; repeatable)",
    )

    graph = commands.add_parser("graph", help="draw the resource graph archlint reasons over")
    graph.add_argument(
        "path",
        metavar="PATH",
        help="template file, directory (each template in it is drawn) or - for standard input",
    )
    graph.add_argument(
        "--format",
        choices=("mermaid", "dot", "json"),
        default="mermaid",
        help="drawing format (default: mermaid)",
    )
    graph.add_argument(
        "--architecture",
        action="append",
        default=[],
        metavar="NAME",
        help="mark what the template lacks against this reference architecture",
    )
    graph.add_argument("--all-edges", action="store_true", help="also draw plain references")

    init = commands.add_parser(
        "init",
        help="start a template from a reference architecture",
        description="Start a template from a reference architecture.",
        epilog="architectures:\n" + "\n".join(f"  {name}" for name in ARCHITECTURES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument(
        "name", metavar="NAME", help=f"the reference architecture: {', '.join(ARCHITECTURES)}"
    )
    init.add_argument(
        "-o", "--output", metavar="FILE", help="write the template to FILE (default: stdout)"
    )
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
