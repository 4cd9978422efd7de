"""GitHub Actions workflow commands: annotations on the pull request's diff."""

from __future__ import annotations

from typing import TextIO

from archlint.engine import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write(report: Report, stream: TextIO, *, color: bool = False) -> None:
    for finding in report.active:
        properties = [f"file={_escape_property(finding.file)}"]
        if finding.line:
            properties.append(f"line={finding.line}")
        properties.append(f"title={_escape_property(f'{finding.rule_id} {finding.rule_name}')}")
        resource = f"[{finding.resource}] " if finding.resource else ""
        fix = f"\nFix: {finding.fix}" if finding.fix else ""
        stream.write(
            f"::{_LEVEL[finding.severity]} {','.join(properties)}::"
            f"{_escape_data(resource + finding.message + fix)}\n"
        )
