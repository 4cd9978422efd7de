"""Human-readable lines: `file:line: severity rule-id [resource] message`."""

from __future__ import annotations

from typing import TextIO

from archlint.engine import Report
from archlint.reporters.safe import visible

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD = "\033[1m"
_RESET = "\033[0m"


def write(report: Report, stream: TextIO, *, color: bool = False) -> None:
    # Every string but the severity and the line can come from a template or
    # its file name: each is written on its line with its controls escaped.
    for finding in report.findings:
        if finding.suppressed and not report.show_suppressed:
            continue
        file = visible(finding.file)
        location = f"{file}:{finding.line}" if finding.line else file
        severity = finding.severity
        if color:
            location = f"{_BOLD}{location}{_RESET}"
            severity = f"{_COLORS[severity]}{severity}{_RESET}"
        resource = f" [{visible(finding.resource)}]" if finding.resource else ""
        if finding.extra.get("cdk_path"):
            resource += f" (construct {visible(finding.extra['cdk_path'])})"
        suppressed = (
            f" (suppressed: {visible(finding.suppression_reason)})" if finding.suppressed else ""
        )
        stream.write(
            f"{location}: {severity} {visible(finding.rule_id)} {visible(finding.rule_name)}"
            f"{resource} {visible(finding.message)}{suppressed}\n"
        )
        if finding.fix and not finding.suppressed:
            stream.write(f"    fix: {visible(finding.fix)}\n")
    if report.statistics:
        write_statistics(report, stream)
    stream.write(summary_line(report) + "\n")


def write_statistics(report: Report, stream: TextIO) -> None:
    counts: dict[tuple[str, str], int] = {}
    for finding in report.active:
        key = (finding.rule_id, finding.rule_name)
        counts[key] = counts.get(key, 0) + 1
    for (code, name), count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        stream.write(f"{count:>5}\t{visible(code)}\t{visible(name)}\n")


def summary_line(report: Report) -> str:
    summary = report.summary()
    files = f"{summary['files']} file{'s' if summary['files'] != 1 else ''}"
    # Findings set aside: suppressed in the template, or in the baseline (`--baseline`).
    aside = [f"{summary['suppressed']} suppressed"] if summary["suppressed"] else []
    baselined = report.baselined
    if baselined:
        aside.append(f"{baselined} baselined")
    extra = f" ({', '.join(aside)})" if aside else ""
    if not report.active:
        return f"All checks passed: {files} checked{extra}."
    parts = [
        f"{summary['errors']} error{'s' if summary['errors'] != 1 else ''}",
        f"{summary['warnings']} warning{'s' if summary['warnings'] != 1 else ''}",
    ]
    if summary["infos"]:
        parts.append(f"{summary['infos']} info")
    return ", ".join(parts) + f" in {files}{extra}."
