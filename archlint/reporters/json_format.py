"""The JSON report of the contract (`docs`/cli.md): version, findings, summary."""

from __future__ import annotations

import json
from typing import TextIO

from archlint import __version__
from archlint.engine import Report


def write(report: Report, stream: TextIO, *, color: bool = False) -> None:
    findings = [f.as_dict() for f in report.findings if not f.suppressed or report.show_suppressed]
    summary = report.summary()
    baselined = report.baselined
    if baselined is not None:
        summary["baselined"] = baselined
    report_data = {"version": __version__, "findings": findings, "summary": summary}
    # One write: json.dump writes every token separately, slow on big reports.
    stream.write(json.dumps(report_data, indent=2) + "\n")
