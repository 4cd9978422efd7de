"""Issue 12, item 3: every option has a help line; graph DIR; init --help; usage errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from archlint.rule import ARCHITECTURES
from conftest import FIXTURES, REFERENCES, run_archlint


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from archlint.cli import build_parser

    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_option_and_argument_of_every_subcommand_has_a_help_line():
    from archlint.cli import build_parser

    missing = []
    for name, parser in [("archlint", build_parser()), *_subcommands().items()]:
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_help_of_each_subcommand_shows_every_option(command: str):
    result = run_archlint(command, "--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    for action in _subcommands()[command]._actions:
        for flag in action.option_strings:
            assert flag in out


def test_init_help_lists_the_architectures():
    out = run_archlint("init", "--help").stdout.decode()
    for name in ARCHITECTURES:
        assert f"\n  {name}\n" in out or out.endswith(f"  {name}\n")


@pytest.mark.parametrize("command", ["check", "graph", "init", "list-rules", "explain"])
def test_unknown_option_prints_the_subcommands_usage(command: str):
    result = run_archlint(command, "--no-such-option", "x")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.startswith(f"usage: archlint {command} ")
    assert f"archlint {command}: error: unrecognized arguments: --no-such-option" in err
    assert "Traceback" not in err


def test_graph_of_a_directory_draws_each_template_under_a_comment(tmp_path: Path):
    for fmt, comment in (("mermaid", "%%"), ("dot", "//")):
        result = run_archlint("graph", "--format", fmt, str(REFERENCES))
        assert result.returncode == 0, result.stderr
        heads = [line for line in result.stdout.decode().splitlines() if line.startswith(comment)]
        assert heads == [
            f"{comment} {REFERENCES / f'{name}.yaml'}" for name in sorted(ARCHITECTURES)
        ]
    data = json.loads(run_archlint("graph", "--format", "json", str(REFERENCES)).stdout)
    assert sorted(data) == [str(REFERENCES / f"{name}.yaml") for name in sorted(ARCHITECTURES)]
    assert all(graph["nodes"] for graph in data.values())


def test_graph_of_a_directory_without_templates_is_a_usage_error(tmp_path: Path):
    (tmp_path / "ci.yml").write_text("on: push\n")
    result = run_archlint("graph", str(tmp_path))
    assert result.returncode == 2
    assert b"no template to draw" in result.stderr
    # One that cannot be drawn is named on stderr; the others are drawn.
    (tmp_path / "site.yaml").write_bytes((FIXTURES / "AL102" / "bad.yaml").read_bytes())
    (tmp_path / "empty.template").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n"
    )
    result = run_archlint("graph", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.decode().startswith(f"%% {tmp_path / 'site.yaml'}\nflowchart LR")
    assert b"not drawn" in result.stderr and b"empty.template" in result.stderr
    missing = run_archlint("graph", str(tmp_path / "nope"))
    assert missing.returncode == 2 and b"no such file or directory" in missing.stderr
