"""GitHub Actions workflow commands: annotations on the pull request's diff."""

from __future__ import annotations

from typing import TextIO

from archlint.engine import Report
from archlint.reporters.safe import visible

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    """As the Actions toolkit escapes a command's message (`escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """As the Actions toolkit escapes a property value (`escapeProperty`)."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write(report: Report, stream: TextIO, *, color: bool = False) -> None:
    # Template-derived strings lose their controls first (a newline in a value
    # must not end the command and start `::error ...` of the author's), then
    # get the toolkit's escapes; the only real line break is the one before Fix.
    for finding in report.active:
        properties = [f"file={_escape_property(visible(finding.file))}"]
        if finding.line:
            properties.append(f"line={finding.line}")
        title = visible(f"{finding.rule_id} {finding.rule_name}")
        properties.append(f"title={_escape_property(title)}")
        resource = f"[{visible(finding.resource)}] " if finding.resource else ""
        fix = f"\nFix: {visible(finding.fix)}" if finding.fix else ""
        stream.write(
            f"::{_LEVEL[finding.severity]} {','.join(properties)}::"
            f"{_escape_data(resource + visible(finding.message) + fix)}\n"
        )
